"""Amazon Ads API Reporting v3 (asynchronous): Sponsored Products campaigns per day."""

from adapters.amazon_ads.client import COLUMNS, DEFAULT_TOKEN_URL, DONE, FAILED, AmazonAdsReportClient, report_windows
from adapters.amazon_ads.parse import REPORT, DuplicateReportError, classify, parse_page, report_date


def fetch(client: AmazonAdsReportClient, account_id: str, since, until):
    """Blocking create-poll-download; the daily DAG uses the steps with a deferrable operator instead."""
    return client.fetch_campaign_report(account_id, since, until)


__all__ = [
    "COLUMNS",
    "DEFAULT_TOKEN_URL",
    "DONE",
    "FAILED",
    "REPORT",
    "AmazonAdsReportClient",
    "DuplicateReportError",
    "classify",
    "fetch",
    "parse_page",
    "report_date",
    "report_windows",
]
