"""Shopify Admin GraphQL API: orders by update time (``orders`` connection)."""

from adapters.shopify.client import (
    ORDERS_QUERY,
    REPORT,
    ShopifyOrdersClient,
    classify,
    fetch,
    parse_page,
    report_date,
)

__all__ = ["ORDERS_QUERY", "REPORT", "ShopifyOrdersClient", "classify", "fetch", "parse_page", "report_date"]
