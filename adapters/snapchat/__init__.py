"""Snapchat Marketing API: daily campaign and ad squad stats (micro-currency spend, 30-minute
tokens) and the account's campaign and ad squad lists (entity lists: the stats carry no names)."""

from adapters.base import entity_report_date
from adapters.catalogue import (
    ConnectionSettings,
    FieldSpec,
    PlatformSpec,
    Report,
    ad_group_report,
    client_call,
    entity_list,
    metric_fields,
    oauth_connection,
    oauth_credentials,
)
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


fetch = client_call("fetch_campaign_stats")
fetch_campaigns = client_call("fetch_campaigns", window=False)
fetch_ad_squad_stats = client_call("fetch_ad_squad_stats")
fetch_ad_squads = client_call("fetch_ad_squads", window=False)


def build_client(settings: ConnectionSettings) -> SnapchatStatsClient:
    return SnapchatStatsClient(settings.base_url(), **oauth_credentials(settings, DEFAULT_TOKEN_URL))


SPEC = PlatformSpec(
    name="snapchat",
    label="Snapchat",
    order=40,
    primary=Report(REPORT, parse_page, report_date, fetch),
    extra=(
        # Entity lists: the id present and unique in the account's list.
        entity_list(CAMPAIGNS_REPORT, parse_campaigns_page, fetch_campaigns, FieldSpec("campaign_id", ("id",), "text")),
        entity_list(
            AD_SQUADS_REPORT,
            parse_ad_squads_page,
            fetch_ad_squads,
            FieldSpec("ad_group_id", ("id",), "text"),
            FieldSpec("campaign_id", ("campaign_id",), "text"),
        ),
        ad_group_report(
            AD_SQUAD_STATS_REPORT,
            parse_ad_squad_stats_page,
            report_date,
            fetch_ad_squad_stats,
            (("id",), ("campaign_id",), "text"),
            metric_fields(("stats", "spend"), ("stats", "impressions"), ("stats", "swipes"), spend_scale=1e-6),
        ),
    ),
    lookback_days=7,
    attribution=ATTRIBUTION,
    connection=oauth_connection("https://adsapi.snapchat.com"),
    build_client=build_client,
    account_id_pattern=r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$",  # ad accounts are UUIDs
)


__all__ = [
    "SPEC",
    "build_client",
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
