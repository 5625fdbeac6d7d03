"""Google Ads API (REST): daily campaign performance via googleAds:searchStream."""

from adapters.google_ads.client import AD_GROUP_QUERY, DEFAULT_TOKEN_URL, QUERY, GoogleAdsClient
from adapters.google_ads.parse import (
    AD_GROUP_REPORT,
    REPORT,
    classify,
    iter_ad_group_page,
    iter_page,
    parse_ad_group_page,
    parse_page,
    report_date,
)

# What ops.workspace_accounts.attribution_window records for every account of this platform.
ATTRIBUTION = "each conversion action's own click-through and view-through windows (set in the account, not asked per report)"


def fetch_ad_groups(client: GoogleAdsClient, customer_id: str, since, until):
    return client.fetch_ad_group_performance(customer_id, since, until)


__all__ = [
    "ATTRIBUTION",
    "AD_GROUP_QUERY",
    "AD_GROUP_REPORT",
    "DEFAULT_TOKEN_URL",
    "QUERY",
    "REPORT",
    "GoogleAdsClient",
    "classify",
    "fetch_ad_groups",
    "iter_ad_group_page",
    "iter_page",
    "parse_ad_group_page",
    "parse_page",
    "report_date",
]
