"""Meta Marketing API: Insights at campaign level, one row per campaign and day (and ad sets, ads)."""

from adapters.meta.client import ATTRIBUTION_WINDOWS, FIELDS, LEVEL_FIELDS, MetaInsightsClient
from adapters.meta.parse import (
    AD_REPORT,
    ADSET_REPORT,
    REPORT,
    classify,
    parse_ad_page,
    parse_adset_page,
    parse_page,
    report_date,
)

# What ops.workspace_accounts.attribution_window records for every Meta account.
ATTRIBUTION = ",".join(ATTRIBUTION_WINDOWS) + " (action_attribution_windows, asked for in every request)"


def fetch_adsets(client: MetaInsightsClient, account_id: str, since, until):
    return client.fetch_insights(account_id, since, until, level="adset")


def fetch_ads(client: MetaInsightsClient, account_id: str, since, until):
    return client.fetch_insights(account_id, since, until, level="ad")


__all__ = [
    "ATTRIBUTION",
    "ATTRIBUTION_WINDOWS",
    "AD_REPORT",
    "ADSET_REPORT",
    "FIELDS",
    "LEVEL_FIELDS",
    "REPORT",
    "MetaInsightsClient",
    "classify",
    "fetch_ads",
    "fetch_adsets",
    "parse_ad_page",
    "parse_adset_page",
    "parse_page",
    "report_date",
]
