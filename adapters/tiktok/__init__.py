"""TikTok Marketing API: daily campaign and ad group reports (``report/integrated/get``)."""

from adapters.catalogue import (
    ConnectionConvention,
    ConnectionSettings,
    PlatformSpec,
    Report,
    ad_group_report,
    client_call,
    metric_fields,
)
from adapters.tiktok.client import METRICS, TikTokReportClient
from adapters.tiktok.parse import (
    AD_GROUP_REPORT,
    REPORT,
    WindowTooLargeError,
    classify,
    parse_ad_group_page,
    parse_page,
    report_date,
)

# What ops.workspace_accounts.attribution_window records for every account of this platform.
ATTRIBUTION = "each ad group's attribution setting (set in the account, not asked per report)"


fetch = client_call("fetch_campaign_report")
fetch_ad_groups = client_call("fetch_ad_group_report")


def build_client(settings: ConnectionSettings) -> TikTokReportClient:
    return TikTokReportClient(settings.base_url(), settings.require(settings.password, "password (the access token)"))


SPEC = PlatformSpec(
    name="tiktok",
    label="TikTok",
    order=30,
    primary=Report(REPORT, parse_page, report_date, fetch),
    extra=(
        ad_group_report(
            AD_GROUP_REPORT,
            parse_ad_group_page,
            report_date,
            fetch_ad_groups,
            (("dimensions", "adgroup_id"), ("metrics", "campaign_id"), "text"),
            metric_fields(("metrics", "spend"), ("metrics", "impressions"), ("metrics", "clicks")),
        ),
    ),
    lookback_days=3,
    attribution=ATTRIBUTION,
    connection=ConnectionConvention("https://business-api.tiktok.com", password="access token", required=("host", "password")),
    build_client=build_client,
)


__all__ = [
    "SPEC",
    "build_client",
    "ATTRIBUTION",
    "AD_GROUP_REPORT",
    "METRICS",
    "REPORT",
    "TikTokReportClient",
    "WindowTooLargeError",
    "classify",
    "fetch",
    "fetch_ad_groups",
    "parse_ad_group_page",
    "parse_page",
    "report_date",
]
