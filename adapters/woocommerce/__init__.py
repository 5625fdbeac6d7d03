"""WooCommerce REST API v3: orders by modification time."""

from adapters.catalogue import ConnectionConvention, ConnectionSettings
from adapters.stores import store_spec
from adapters.woocommerce.client import REPORT, WooCommerceOrdersClient, fetch, parse_page, report_date


def build_client(settings: ConnectionSettings) -> WooCommerceOrdersClient:
    return WooCommerceOrdersClient(
        settings.base_url(),
        settings.require(settings.login, "login (the consumer key)"),
        settings.require(settings.password, "password (the consumer secret)"),
    )


SPEC = store_spec(
    "woocommerce",
    "WooCommerce",
    20,
    (parse_page, report_date, fetch),
    total=("total",),
    connection=ConnectionConvention(
        "https://{the shop's site}", login="consumer key", password="consumer secret", required=("host", "login", "password")
    ),
    build_client=build_client,
    store_id_pattern=r"^[a-z0-9][a-z0-9\-]{0,62}$",  # a slug for the site
)


__all__ = ["SPEC", "build_client", "REPORT", "WooCommerceOrdersClient", "fetch", "parse_page", "report_date"]
