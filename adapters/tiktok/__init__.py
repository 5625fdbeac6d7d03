"""TikTok Marketing API: daily campaign report (``report/integrated/get``)."""

from adapters.tiktok.client import METRICS, TikTokReportClient
from adapters.tiktok.parse import REPORT, WindowTooLargeError, classify, parse_page, report_date


def fetch(client: TikTokReportClient, account_id: str, since, until):
    return client.fetch_campaign_report(account_id, since, until)


__all__ = ["METRICS", "REPORT", "TikTokReportClient", "WindowTooLargeError", "classify", "fetch", "parse_page", "report_date"]
