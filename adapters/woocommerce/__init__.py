"""WooCommerce REST API v3: orders by modification time."""

from adapters.woocommerce.client import REPORT, WooCommerceOrdersClient, fetch, parse_page, report_date

__all__ = ["REPORT", "WooCommerceOrdersClient", "fetch", "parse_page", "report_date"]
