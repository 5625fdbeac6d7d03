"""Source adapters: plain Python (stdlib + requests) that pull raw records from APIs.

``PLATFORMS`` lets platform-agnostic code (the pipeline and the lake loader) work
with any platform: ``PLATFORMS["meta"].parse_page(body)`` -> rows,
``.report_date(row)`` -> date, ``.report`` -> the report name used in lake paths
and raw table names, ``.fetch(client, account_id, since, until)`` -> pages
(None for file drops, which are read from an inbox, not fetched).

Store orders (``STORE_PLATFORMS``) are ``zoned``: their days are the store's, so
``report_date(record, timezone)`` and ``fetch(client, store_id, since, until, timezone)``
take the store's time zone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import NamedTuple

from adapters import amazon_ads, file_drop, google_ads, linkedin, meta, salla, shopify, snapchat, tiktok, woocommerce, zid


class PlatformReport(NamedTuple):
    report: str
    parse_page: Callable[[bytes], list[dict]]
    report_date: Callable[[dict], date]
    fetch: Callable[..., Iterable] | None = None
    zoned: bool = False  # report_date and fetch take the account's time zone (store orders)


PLATFORMS: dict[str, PlatformReport] = {
    "meta": PlatformReport(meta.REPORT, meta.parse_page, meta.report_date, lambda c, a, s, u: c.fetch_insights(a, s, u)),
    "google_ads": PlatformReport(
        google_ads.REPORT, google_ads.parse_page, google_ads.report_date, lambda c, a, s, u: c.fetch_campaign_performance(a, s, u)
    ),
    "tiktok": PlatformReport(tiktok.REPORT, tiktok.parse_page, tiktok.report_date, tiktok.fetch),
    "snapchat": PlatformReport(snapchat.REPORT, snapchat.parse_page, snapchat.report_date, snapchat.fetch),
    "linkedin": PlatformReport(linkedin.REPORT, linkedin.parse_page, linkedin.report_date, linkedin.fetch),
    "amazon_ads": PlatformReport(amazon_ads.REPORT, amazon_ads.parse_page, amazon_ads.report_date, amazon_ads.fetch),
    "file_drop": PlatformReport(file_drop.REPORT, file_drop.parse_page, file_drop.report_date, None),
    "shopify": PlatformReport(shopify.REPORT, shopify.parse_page, shopify.report_date, shopify.fetch, zoned=True),
    "woocommerce": PlatformReport(woocommerce.REPORT, woocommerce.parse_page, woocommerce.report_date, woocommerce.fetch, zoned=True),
    "salla": PlatformReport(salla.REPORT, salla.parse_page, salla.report_date, salla.fetch, zoned=True),
    "zid": PlatformReport(zid.REPORT, zid.parse_page, zid.report_date, zid.fetch, zoned=True),
}
STORE_PLATFORMS = ("shopify", "woocommerce", "salla", "zid")

__all__ = ["PLATFORMS", "STORE_PLATFORMS", "PlatformReport"]
