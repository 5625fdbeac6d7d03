"""TikTok Marketing API: daily campaign and ad group reports (``report/integrated/get``)."""

from adapters.tiktok.client import METRICS, TikTokReportClient
from adapters.tiktok.parse import (
    AD_GROUP_REPORT,
    REPORT,
    WindowTooLargeError,
    classify,
    parse_ad_group_page,
    parse_page,
    report_date,
)

# What ops.workspace_accounts.attribution_window records for every account of this platform.
ATTRIBUTION = "each ad group's attribution setting (set in the account, not asked per report)"


def fetch(client: TikTokReportClient, account_id: str, since, until):
    return client.fetch_campaign_report(account_id, since, until)


def fetch_ad_groups(client: TikTokReportClient, account_id: str, since, until):
    return client.fetch_ad_group_report(account_id, since, until)


__all__ = [
    "ATTRIBUTION",
    "AD_GROUP_REPORT",
    "METRICS",
    "REPORT",
    "TikTokReportClient",
    "WindowTooLargeError",
    "classify",
    "fetch",
    "fetch_ad_groups",
    "parse_ad_group_page",
    "parse_page",
    "report_date",
]
