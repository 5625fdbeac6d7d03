"""Source adapters: plain Python (stdlib + requests) that pull raw records from APIs.

``PLATFORMS`` lets platform-agnostic code (the pipeline and the lake loader) work
with any platform: ``PLATFORMS["meta"].parse_page(body)`` -> rows,
``.report_date(row)`` -> date, ``.report`` -> the report name used in lake paths
and raw table names, ``.fetch(client, account_id, since, until)`` -> pages
(None for file drops, which are read from an inbox, not fetched).

Store orders (``STORE_PLATFORMS``) are ``zoned``: their days are the store's, so
``report_date(record, timezone)`` and ``fetch(client, store_id, since, until, timezone)``
take the store's time zone.

A platform may declare further reports in ``extra`` (finer grains, entity
lists): each is a ``Report`` with its own name, parser, report date and fetch,
landed in its own lake batch and raw table (``raw.<platform>__<report>``). An
entity list (``entity_list=True``: campaign lists and the like) has no report
date (``report_date`` returns None); its load replaces the account's rows.
``PLATFORMS[p].reports()`` is the primary report followed by the extras, in
the order they are extracted; ``report_spec(platform, report)`` finds one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date
from typing import NamedTuple

from adapters import amazon_ads, file_drop, google_ads, linkedin, meta, salla, shopify, snapchat, tiktok, woocommerce, zid
from adapters.base import entity_report_date

Fetch = Callable[..., Iterable]


class Report(NamedTuple):
    """One report of a platform: what the loader needs to parse it and the pipeline to fetch it."""

    report: str
    parse_page: Callable[[bytes], Iterable[dict]]  # a list, or an iterator that reads the page as it goes
    report_date: Callable[..., date | None]
    fetch: Fetch | None = None
    entity_list: bool = False  # rows without a report date; a load replaces the account's rows


class PlatformReport(NamedTuple):
    """A platform's primary (campaign-day) report, plus the extra reports it declares."""

    report: str
    parse_page: Callable[[bytes], Iterable[dict]]
    report_date: Callable[[dict], date]
    fetch: Fetch | None = None
    zoned: bool = False  # report_date and fetch take the account's time zone (store orders)
    extra: tuple[Report, ...] = ()
    # How the platform attributes the conversions we load (its module's ATTRIBUTION; None for stores, whose
    # orders are attributed by last click in dbt): recorded per account in ops.workspace_accounts.
    attribution: str | None = None

    @property
    def primary(self) -> Report:
        return Report(self.report, self.parse_page, self.report_date, self.fetch)

    def reports(self) -> tuple[Report, ...]:
        """Every report of the platform, the primary first (the order they are extracted and loaded)."""
        return (self.primary, *self.extra)

    def get(self, report: str) -> Report:
        for spec in self.reports():
            if spec.report == report:
                return spec
        raise KeyError(f"no report {report!r} (known: {', '.join(r.report for r in self.reports())})")


PLATFORMS: dict[str, PlatformReport] = {
    "meta": PlatformReport(
        meta.REPORT,
        meta.parse_page,
        meta.report_date,
        lambda c, a, s, u: c.fetch_insights(a, s, u),
        extra=(
            Report(meta.ADSET_REPORT, meta.parse_adset_page, meta.report_date, meta.fetch_adsets),
            Report(meta.AD_REPORT, meta.parse_ad_page, meta.report_date, meta.fetch_ads),
        ),
        attribution=meta.ATTRIBUTION,
    ),
    "google_ads": PlatformReport(
        google_ads.REPORT,
        google_ads.iter_page,
        google_ads.report_date,
        lambda c, a, s, u: c.fetch_campaign_performance(a, s, u),
        extra=(Report(google_ads.AD_GROUP_REPORT, google_ads.iter_ad_group_page, google_ads.report_date, google_ads.fetch_ad_groups),),
        attribution=google_ads.ATTRIBUTION,
    ),
    "tiktok": PlatformReport(
        tiktok.REPORT,
        tiktok.parse_page,
        tiktok.report_date,
        tiktok.fetch,
        extra=(Report(tiktok.AD_GROUP_REPORT, tiktok.parse_ad_group_page, tiktok.report_date, tiktok.fetch_ad_groups),),
        attribution=tiktok.ATTRIBUTION,
    ),
    "snapchat": PlatformReport(
        snapchat.REPORT,
        snapchat.parse_page,
        snapchat.report_date,
        snapchat.fetch,
        extra=(
            Report(snapchat.CAMPAIGNS_REPORT, snapchat.parse_campaigns_page, entity_report_date, snapchat.fetch_campaigns, entity_list=True),
            Report(snapchat.AD_SQUADS_REPORT, snapchat.parse_ad_squads_page, entity_report_date, snapchat.fetch_ad_squads, entity_list=True),
            Report(snapchat.AD_SQUAD_STATS_REPORT, snapchat.parse_ad_squad_stats_page, snapchat.report_date, snapchat.fetch_ad_squad_stats),
        ),
        attribution=snapchat.ATTRIBUTION,
    ),
    "linkedin": PlatformReport(
        linkedin.REPORT,
        linkedin.parse_page,
        linkedin.report_date,
        linkedin.fetch,
        extra=(
            Report(linkedin.CAMPAIGNS_REPORT, linkedin.parse_campaigns_page, entity_report_date, linkedin.fetch_campaigns, entity_list=True),
            Report(
                linkedin.CAMPAIGN_GROUPS_REPORT, linkedin.parse_campaign_groups_page, entity_report_date, linkedin.fetch_campaign_groups, entity_list=True
            ),
            Report(linkedin.CREATIVES_REPORT, linkedin.parse_creatives_page, entity_report_date, linkedin.fetch_creatives, entity_list=True),
            Report(linkedin.CREATIVE_ANALYTICS_REPORT, linkedin.parse_creative_analytics_page, linkedin.report_date, linkedin.fetch_creative_analytics),
        ),
        attribution=linkedin.ATTRIBUTION,
    ),
    # Amazon's reports are extracted by ads_elt.amazon_ads (deferred); ``fetch`` here blocks (command line).
    "amazon_ads": PlatformReport(
        amazon_ads.REPORT,
        amazon_ads.parse_page,
        amazon_ads.report_date,
        amazon_ads.fetch,
        extra=(Report(amazon_ads.AD_GROUP_REPORT, amazon_ads.parse_ad_group_page, amazon_ads.report_date, amazon_ads.fetch_ad_groups),),
        attribution=amazon_ads.ATTRIBUTION,
    ),
    "file_drop": PlatformReport(file_drop.REPORT, file_drop.parse_page, file_drop.report_date, None, attribution=file_drop.ATTRIBUTION),
    "shopify": PlatformReport(shopify.REPORT, shopify.parse_page, shopify.report_date, shopify.fetch, zoned=True),
    "woocommerce": PlatformReport(woocommerce.REPORT, woocommerce.parse_page, woocommerce.report_date, woocommerce.fetch, zoned=True),
    "salla": PlatformReport(salla.REPORT, salla.parse_page, salla.report_date, salla.fetch, zoned=True),
    "zid": PlatformReport(zid.REPORT, zid.parse_page, zid.report_date, zid.fetch, zoned=True),
}
STORE_PLATFORMS = ("shopify", "woocommerce", "salla", "zid")



def report_spec(platform: str, report: str) -> Report:
    """The named report of a platform; ``KeyError`` naming both when there is none."""
    if platform not in PLATFORMS:
        raise KeyError(f"unknown platform {platform!r}")
    try:
        return PLATFORMS[platform].get(report)
    except KeyError as exc:
        raise KeyError(f"{platform}: {exc.args[0]}") from None


__all__ = ["PLATFORMS", "STORE_PLATFORMS", "PlatformReport", "Report", "report_spec"]
