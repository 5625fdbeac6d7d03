"""Amazon Ads API Reporting v3 (asynchronous): Sponsored Products campaigns and ad groups per day."""

from adapters.amazon_ads.client import COLUMNS, DEFAULT_TOKEN_URL, DONE, FAILED, AmazonAdsReportClient, report_windows
from adapters.amazon_ads.parse import (
    AD_GROUP_REPORT,
    REPORT,
    DuplicateReportError,
    classify,
    parse_ad_group_page,
    parse_page,
    report_date,
)

# What ops.workspace_accounts.attribution_window records for every account of this platform.
ATTRIBUTION = "7 days (the report's purchases7d and sales7d columns, asked for in every report)"


def fetch(client: AmazonAdsReportClient, account_id: str, since, until):
    """Blocking create-poll-download; the daily DAG uses the steps with a deferrable operator instead."""
    return client.fetch_campaign_report(account_id, since, until)


def fetch_ad_groups(client: AmazonAdsReportClient, account_id: str, since, until):
    """Blocking create-poll-download of the ad group reports (the DAG defers instead)."""
    return client.fetch_ad_group_report(account_id, since, until)


__all__ = [
    "ATTRIBUTION",
    "AD_GROUP_REPORT",
    "COLUMNS",
    "DEFAULT_TOKEN_URL",
    "DONE",
    "FAILED",
    "REPORT",
    "AmazonAdsReportClient",
    "DuplicateReportError",
    "classify",
    "fetch",
    "fetch_ad_groups",
    "parse_ad_group_page",
    "parse_page",
    "report_date",
    "report_windows",
]
