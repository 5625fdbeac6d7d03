"""Zid Merchant API: orders (``GET /v1/managers/store/orders``)."""

from adapters.catalogue import ConnectionConvention, ConnectionSettings
from adapters.stores import REPORT, store_spec
from adapters.zid.client import ZidOrdersClient, fetch, parse_page, report_date


def build_client(settings: ConnectionSettings) -> ZidOrdersClient:
    return ZidOrdersClient(
        settings.base_url(),
        authorization=settings.require(settings.extra.get("authorization"), "extra.authorization (the Authorization token)"),
        manager_token=settings.require(settings.password, "password (the X-Manager-Token)"),
    )


SPEC = store_spec(
    "zid",
    "Zid",
    40,
    (parse_page, report_date, fetch),
    total=("order_total",),
    connection=ConnectionConvention(
        "https://api.zid.sa",
        password="X-Manager-Token",
        extra="authorization (the Authorization bearer token)",
        required=("host", "password", "extra.authorization"),
    ),
    build_client=build_client,
    store_id_pattern=r"^[0-9]{1,20}$",
)


__all__ = ["SPEC", "build_client", "REPORT", "ZidOrdersClient", "fetch", "parse_page", "report_date"]
