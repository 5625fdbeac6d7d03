"""Source adapters: plain Python (stdlib + requests) that pull raw records from APIs.

``PLATFORMS`` lets platform-agnostic code (the lake loader) parse stored pages:
``PLATFORMS["meta"].parse_page(body)`` -> rows, ``.report_date(row)`` -> date,
``.report`` -> the report name used in lake paths and raw table names.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import NamedTuple

from adapters import google_ads, meta


class PlatformReport(NamedTuple):
    report: str
    parse_page: Callable[[bytes], list[dict]]
    report_date: Callable[[dict], date]


PLATFORMS: dict[str, PlatformReport] = {
    "meta": PlatformReport(meta.REPORT, meta.parse_page, meta.report_date),
    "google_ads": PlatformReport(google_ads.REPORT, google_ads.parse_page, google_ads.report_date),
}

__all__ = ["PLATFORMS", "PlatformReport"]
