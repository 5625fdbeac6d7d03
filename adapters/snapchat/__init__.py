"""Snapchat Marketing API: daily campaign stats (micro-currency spend, 30-minute tokens)."""

from adapters.snapchat.client import DEFAULT_TOKEN_URL, FIELDS, SnapchatStatsClient
from adapters.snapchat.parse import REPORT, classify, parse_page, report_date


def fetch(client: SnapchatStatsClient, account_id: str, since, until):
    return client.fetch_campaign_stats(account_id, since, until)


__all__ = ["DEFAULT_TOKEN_URL", "FIELDS", "REPORT", "SnapchatStatsClient", "classify", "fetch", "parse_page", "report_date"]
