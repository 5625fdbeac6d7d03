"""Amazon Ads API Reporting v3 (asynchronous): Sponsored Products campaigns and ad groups per day."""

from adapters.amazon_ads.client import (
    COLUMNS,
    DEFAULT_TOKEN_URL,
    DONE,
    FAILED,
    REPORT_POLL_SECONDS,
    AmazonAdsReportClient,
    report_windows,
)
from adapters.amazon_ads.parse import (
    AD_GROUP_REPORT,
    REPORT,
    DuplicateReportError,
    classify,
    parse_ad_group_page,
    parse_page,
    report_date,
)
from adapters.catalogue import (
    ConnectionSettings,
    PlatformSpec,
    Report,
    ad_group_report,
    client_call,
    metric_fields,
    oauth_connection,
    oauth_credentials,
)

# What ops.workspace_accounts.attribution_window records for every account of this platform.
ATTRIBUTION = "7 days (the report's purchases7d and sales7d columns, asked for in every report)"


fetch = client_call("fetch_campaign_report")
fetch_ad_groups = client_call("fetch_ad_group_report")


def build_client(settings: ConnectionSettings) -> AmazonAdsReportClient:
    return AmazonAdsReportClient(
        settings.base_url(),
        **oauth_credentials(settings, DEFAULT_TOKEN_URL, "the Login with Amazon client id"),
        poll_seconds=float(settings.extra.get("report_poll_seconds") or REPORT_POLL_SECONDS),
    )


# The daily DAG extracts Amazon's reports with ads_elt.ingestion.amazon_ads (deferred); ``fetch`` here blocks (command line).
SPEC = PlatformSpec(
    name="amazon_ads",
    label="Amazon Ads",
    order=60,
    primary=Report(REPORT, parse_page, report_date, fetch),
    extra=(
        ad_group_report(
            AD_GROUP_REPORT,
            parse_ad_group_page,
            report_date,
            fetch_ad_groups,
            (("adGroupId",), ("campaignId",), "number"),  # Amazon ids are JSON numbers
            metric_fields(("cost",), ("impressions",), ("clicks",)),
        ),
    ),
    lookback_days=3,
    attribution=ATTRIBUTION,
    connection=oauth_connection(
        "https://advertising-api.amazon.com", "client_secret, token_url, report_poll_seconds (default 60)"
    ),
    build_client=build_client,
)


__all__ = [
    "SPEC",
    "build_client",
    "ATTRIBUTION",
    "AD_GROUP_REPORT",
    "COLUMNS",
    "DEFAULT_TOKEN_URL",
    "DONE",
    "FAILED",
    "REPORT",
    "AmazonAdsReportClient",
    "DuplicateReportError",
    "classify",
    "fetch",
    "fetch_ad_groups",
    "parse_ad_group_page",
    "parse_page",
    "report_date",
    "report_windows",
]
