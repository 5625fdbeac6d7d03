"""LinkedIn Marketing API: daily campaign analytics (Rest.li encoded, no paging), and the
account's campaigns, campaign groups and creatives (entity lists: names, the campaign's group,
the creative's campaign); daily analytics per creative, LinkedIn's grain under a campaign."""

from adapters.base import entity_report_date
from adapters.linkedin.client import DEFAULT_TOKEN_URL, FIELDS, LinkedInAnalyticsClient, analytics_query, entity_search_query
from adapters.linkedin.parse import (
    CAMPAIGN_GROUPS_REPORT,
    CAMPAIGNS_REPORT,
    CREATIVE_ANALYTICS_REPORT,
    CREATIVES_REPORT,
    REPORT,
    classify,
    parse_campaign_groups_page,
    parse_campaigns_page,
    parse_creative_analytics_page,
    parse_creatives_page,
    parse_page,
    report_date,
)

# What ops.workspace_accounts.attribution_window records for every account of this platform.
ATTRIBUTION = "each conversion rule's click and view windows (set in the account, not asked per report)"


def fetch(client: LinkedInAnalyticsClient, account_id: str, since, until):
    return client.fetch_ad_analytics(account_id, since, until)


def fetch_campaigns(client: LinkedInAnalyticsClient, account_id: str, since, until):
    """The whole campaign list, whatever the window (an entity list, not a report on days)."""
    return client.fetch_campaigns(account_id)


def fetch_campaign_groups(client: LinkedInAnalyticsClient, account_id: str, since, until):
    """The whole campaign group list, whatever the window."""
    return client.fetch_campaign_groups(account_id)


def fetch_creative_analytics(client: LinkedInAnalyticsClient, account_id: str, since, until):
    return client.fetch_creative_analytics(account_id, since, until)


def fetch_creatives(client: LinkedInAnalyticsClient, account_id: str, since, until):
    """The whole creative list, whatever the window."""
    return client.fetch_creatives(account_id)


__all__ = [
    "ATTRIBUTION",
    "CREATIVES_REPORT",
    "CREATIVE_ANALYTICS_REPORT",
    "CAMPAIGNS_REPORT",
    "CAMPAIGN_GROUPS_REPORT",
    "DEFAULT_TOKEN_URL",
    "FIELDS",
    "REPORT",
    "LinkedInAnalyticsClient",
    "analytics_query",
    "classify",
    "entity_report_date",
    "entity_search_query",
    "fetch",
    "fetch_campaign_groups",
    "fetch_campaigns",
    "fetch_creative_analytics",
    "fetch_creatives",
    "parse_campaign_groups_page",
    "parse_campaigns_page",
    "parse_creative_analytics_page",
    "parse_creatives_page",
    "parse_page",
    "report_date",
]
