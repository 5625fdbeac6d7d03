"""Shopify Admin GraphQL API: orders by update time (``orders`` connection)."""

from adapters.catalogue import ConnectionConvention, ConnectionSettings
from adapters.shopify.client import (
    DEFAULT_API_VERSION,
    ORDERS_QUERY,
    REPORT,
    ShopifyOrdersClient,
    classify,
    fetch,
    parse_page,
    report_date,
)
from adapters.stores import store_spec


def build_client(settings: ConnectionSettings) -> ShopifyOrdersClient:
    return ShopifyOrdersClient(
        settings.base_url(),
        settings.require(settings.password, "password (the Admin API access token)"),
        api_version=str(settings.extra.get("api_version") or DEFAULT_API_VERSION),
    )


SPEC = store_spec(
    "shopify",
    "Shopify",
    10,
    (parse_page, report_date, fetch),
    total=("totalPriceSet", "shopMoney", "amount"),
    connection=ConnectionConvention(
        "https://{shop}.myshopify.com",
        password="Admin API access token",
        extra=f"api_version (default {DEFAULT_API_VERSION})",
        required=("host", "password"),
    ),
    build_client=build_client,
    store_id_pattern=r"^[a-z0-9][a-z0-9\-]{0,62}$",  # the shop's myshopify handle
)


__all__ = [
    "SPEC",
    "build_client",
    "ORDERS_QUERY",
    "REPORT",
    "ShopifyOrdersClient",
    "classify",
    "fetch",
    "parse_page",
    "report_date",
]
