"""Snapchat Marketing API: daily campaign and ad squad stats (micro-currency spend, 30-minute
tokens) and the account's campaign and ad squad lists (entity lists: the stats carry no names)."""

from adapters.base import entity_report_date
from adapters.snapchat.client import (
    DEFAULT_TOKEN_URL,
    FIELDS,
    SWIPE_UP_ATTRIBUTION_WINDOW,
    VIEW_ATTRIBUTION_WINDOW,
    SnapchatStatsClient,
)
from adapters.snapchat.parse import (
    AD_SQUAD_STATS_REPORT,
    AD_SQUADS_REPORT,
    CAMPAIGNS_REPORT,
    REPORT,
    classify,
    parse_ad_squad_stats_page,
    parse_ad_squads_page,
    parse_campaigns_page,
    parse_page,
    report_date,
)

# What ops.workspace_accounts.attribution_window records for every Snapchat account.
ATTRIBUTION = (
    f"swipe_up {SWIPE_UP_ATTRIBUTION_WINDOW}, view {VIEW_ATTRIBUTION_WINDOW}"
    " (swipe_up_attribution_window, view_attribution_window, asked for in every request)"
)


def fetch(client: SnapchatStatsClient, account_id: str, since, until):
    return client.fetch_campaign_stats(account_id, since, until)


def fetch_campaigns(client: SnapchatStatsClient, account_id: str, since, until):
    """The whole campaign list, whatever the window (an entity list, not a report on days)."""
    return client.fetch_campaigns(account_id)


def fetch_ad_squad_stats(client: SnapchatStatsClient, account_id: str, since, until):
    return client.fetch_ad_squad_stats(account_id, since, until)


def fetch_ad_squads(client: SnapchatStatsClient, account_id: str, since, until):
    """The whole ad squad list, whatever the window."""
    return client.fetch_ad_squads(account_id)


__all__ = [
    "AD_SQUADS_REPORT",
    "AD_SQUAD_STATS_REPORT",
    "CAMPAIGNS_REPORT",
    "DEFAULT_TOKEN_URL",
    "FIELDS",
    "REPORT",
    "SnapchatStatsClient",
    "classify",
    "entity_report_date",
    "fetch",
    "fetch_ad_squad_stats",
    "fetch_ad_squads",
    "fetch_campaigns",
    "parse_ad_squad_stats_page",
    "parse_ad_squads_page",
    "parse_campaigns_page",
    "parse_page",
    "report_date",
]
