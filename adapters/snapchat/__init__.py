"""Snapchat Marketing API: daily campaign stats (micro-currency spend, 30-minute tokens) and
the account's campaign list (an entity list: the stats carry no campaign name)."""

from adapters.base import entity_report_date
from adapters.snapchat.client import DEFAULT_TOKEN_URL, FIELDS, SnapchatStatsClient
from adapters.snapchat.parse import CAMPAIGNS_REPORT, REPORT, classify, parse_campaigns_page, parse_page, report_date


def fetch(client: SnapchatStatsClient, account_id: str, since, until):
    return client.fetch_campaign_stats(account_id, since, until)


def fetch_campaigns(client: SnapchatStatsClient, account_id: str, since, until):
    """The whole campaign list, whatever the window (an entity list, not a report on days)."""
    return client.fetch_campaigns(account_id)


__all__ = [
    "CAMPAIGNS_REPORT",
    "DEFAULT_TOKEN_URL",
    "FIELDS",
    "REPORT",
    "SnapchatStatsClient",
    "classify",
    "entity_report_date",
    "fetch",
    "fetch_campaigns",
    "parse_campaigns_page",
    "parse_page",
    "report_date",
]
