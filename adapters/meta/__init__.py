"""Meta Marketing API: Insights at campaign level, one row per campaign and day (and ad sets, ads)."""

import re

from adapters.catalogue import (
    ConnectionConvention,
    ConnectionSettings,
    FieldSpec,
    PlatformSpec,
    Report,
    client_call,
    metric_fields,
)
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


fetch_adsets = client_call("fetch_insights", level="adset")
fetch_ads = client_call("fetch_insights", level="ad")


def build_client(settings: ConnectionSettings) -> MetaInsightsClient:
    return MetaInsightsClient(
        base_url=settings.base_url(),
        access_token=settings.require(settings.password, "password (the access token)"),
        api_version=settings.extra.get("api_version", "v21.0"),
    )


_CAMPAIGN_ID = FieldSpec("campaign_id", ("campaign_id",), "text")
_ADSET_ID = FieldSpec("adset_id", ("adset_id",), "text")
_METRICS = metric_fields(("spend",), ("impressions",), ("clicks",))


def account_id_from_ui(value: str) -> str:
    """An ad account id as the UI shows it (act_123) -> as the API takes it (123)."""
    return value.removeprefix("act_") if re.fullmatch(r"act_[0-9]{1,20}", value) else value


SPEC = PlatformSpec(
    name="meta",
    label="Meta",
    order=10,
    primary=Report(
        REPORT, parse_page, report_date, client_call("fetch_insights"), fields=(_CAMPAIGN_ID, *_METRICS)
    ),
    extra=(
        Report(
            ADSET_REPORT,
            parse_adset_page,
            report_date,
            fetch_adsets,
            fields=(_CAMPAIGN_ID, _ADSET_ID, *_METRICS),
            key=("adset_id",),
        ),
        Report(
            AD_REPORT,
            parse_ad_page,
            report_date,
            fetch_ads,
            fields=(_CAMPAIGN_ID, _ADSET_ID, FieldSpec("ad_id", ("ad_id",), "text"), *_METRICS),
            key=("ad_id",),
        ),
    ),
    lookback_days=28,
    attribution=ATTRIBUTION,
    connection=ConnectionConvention(
        "https://graph.facebook.com", password="access token", extra="api_version (default v21.0)", required=("host", "password")
    ),
    build_client=build_client,
    account_id_from_ui=account_id_from_ui,
)


__all__ = [
    "SPEC",
    "build_client",
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
