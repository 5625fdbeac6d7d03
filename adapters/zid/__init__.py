"""Zid Merchant API: orders (``GET /v1/managers/store/orders``)."""

from adapters.stores import REPORT
from adapters.zid.client import ZidOrdersClient, fetch, parse_page, report_date

__all__ = ["REPORT", "ZidOrdersClient", "fetch", "parse_page", "report_date"]
