"""LinkedIn Marketing API: daily campaign analytics (Rest.li encoded, no paging), and the
account's campaigns, campaign groups and creatives (entity lists: names, the campaign's group,
the creative's campaign); daily analytics per creative, LinkedIn's grain under a campaign."""

from adapters.base import entity_report_date
from adapters.catalogue import (
    ConnectionConvention,
    ConnectionSettings,
    FieldSpec,
    PlatformSpec,
    Report,
    client_call,
    entity_list,
    metric_fields,
)
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


fetch = client_call("fetch_ad_analytics")
fetch_campaigns = client_call("fetch_campaigns", window=False)
fetch_campaign_groups = client_call("fetch_campaign_groups", window=False)
fetch_creative_analytics = client_call("fetch_creative_analytics")
fetch_creatives = client_call("fetch_creatives", window=False)


def build_client(settings: ConnectionSettings) -> LinkedInAnalyticsClient:
    """A refreshing client when the settings carry a client id and secret, else one on a fixed access token."""
    secret = settings.require(settings.password, "password (the refresh token, or an access token)")
    client_secret = settings.extra.get("client_secret")
    refreshable = bool(settings.login and client_secret)
    return LinkedInAnalyticsClient(
        settings.base_url(),
        access_token=None if refreshable else secret,
        client_id=settings.login if refreshable else None,
        client_secret=client_secret if refreshable else None,
        refresh_token=secret if refreshable else None,
        token_url=settings.extra.get("token_url") or DEFAULT_TOKEN_URL,
        api_version=str(settings.extra.get("api_version") or "202411"),
    )


# LinkedIn ids are JSON numbers.
SPEC = PlatformSpec(
    name="linkedin",
    label="LinkedIn",
    order=50,
    primary=Report(REPORT, parse_page, report_date, fetch),
    extra=(
        entity_list(CAMPAIGNS_REPORT, parse_campaigns_page, fetch_campaigns, FieldSpec("campaign_id", ("id",), "number")),
        entity_list(
            CAMPAIGN_GROUPS_REPORT,
            parse_campaign_groups_page,
            fetch_campaign_groups,
            FieldSpec("campaign_group_id", ("id",), "number"),
        ),
        entity_list(
            CREATIVES_REPORT,
            parse_creatives_page,
            fetch_creatives,
            FieldSpec("creative_id", ("id",), "text"),
            FieldSpec("campaign_id", ("campaign",), "text"),
        ),
        Report(
            CREATIVE_ANALYTICS_REPORT,
            parse_creative_analytics_page,
            report_date,
            fetch_creative_analytics,
            fields=metric_fields(("costInLocalCurrency",), ("impressions",), ("clicks",)),
            key=(),  # the creative is inside the pivotValues list
        ),
    ),
    lookback_days=7,
    attribution=ATTRIBUTION,
    connection=ConnectionConvention(
        "https://api.linkedin.com",
        login="client id",
        password="refresh token (or access token without client_secret)",
        extra="client_secret, token_url, api_version (YYYYMM)",
        required=("host", "password"),
    ),
    build_client=build_client,
)


__all__ = [
    "SPEC",
    "build_client",
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
