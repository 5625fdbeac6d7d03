"""Salla Merchant API: orders (``GET /admin/v2/orders``)."""

from adapters.catalogue import ConnectionConvention, ConnectionSettings
from adapters.salla.client import SallaOrdersClient, fetch, parse_page, report_date
from adapters.stores import REPORT, store_spec


def build_client(settings: ConnectionSettings) -> SallaOrdersClient:
    return SallaOrdersClient(settings.base_url(), settings.require(settings.password, "password (the access token)"))


SPEC = store_spec(
    "salla",
    "Salla",
    30,
    (parse_page, report_date, fetch),
    total=("amounts", "total", "amount"),
    connection=ConnectionConvention("https://api.salla.dev", password="access token", required=("host", "password")),
    build_client=build_client,
    store_id_pattern=r"^[0-9]{1,20}$",
)


__all__ = ["SPEC", "build_client", "REPORT", "SallaOrdersClient", "fetch", "parse_page", "report_date"]
