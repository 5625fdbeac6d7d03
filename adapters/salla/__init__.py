"""Salla Merchant API: orders (``GET /admin/v2/orders``)."""

from adapters.salla.client import SallaOrdersClient, fetch, parse_page, report_date
from adapters.stores import REPORT

__all__ = ["REPORT", "SallaOrdersClient", "fetch", "parse_page", "report_date"]
