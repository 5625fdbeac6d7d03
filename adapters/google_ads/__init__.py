"""Google Ads API (REST): daily campaign performance via googleAds:searchStream."""

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


fetch_ad_groups = client_call("fetch_ad_group_performance")


def build_client(settings: ConnectionSettings) -> GoogleAdsClient:
    extra = settings.extra
    kwargs = {"api_version": extra["api_version"]} if extra.get("api_version") else {}
    return GoogleAdsClient(
        base_url=settings.base_url(),
        developer_token=settings.require(extra.get("developer_token"), "extra.developer_token"),
        client_id=settings.require(settings.login, "login (the OAuth client id)"),
        client_secret=settings.require(extra.get("client_secret"), "extra.client_secret"),
        refresh_token=settings.require(settings.password, "password (the OAuth refresh token)"),
        token_url=extra.get("token_url") or DEFAULT_TOKEN_URL,
        login_customer_id=extra.get("login_customer_id"),
        **kwargs,
    )


_METRICS = (
    *metric_fields(("metrics", "costMicros"), ("metrics", "impressions"), ("metrics", "clicks"), spend_scale=1e-6),
    FieldSpec("conversion_value", ("metrics", "conversionsValue"), "number", default=0),
)
_CAMPAIGN_ID = FieldSpec("campaign_id", ("campaign", "id"), "text")


def account_id_from_ui(value: str) -> str:
    """A customer id as the UI shows it (123-456-7890) -> as the API takes it (1234567890)."""
    return value.replace("-", "") if re.fullmatch(r"[0-9]{3}-[0-9]{3}-[0-9]{4}", value) else value


SPEC = PlatformSpec(
    name="google_ads",
    label="Google Ads",
    order=20,
    primary=Report(
        REPORT, iter_page, report_date, client_call("fetch_campaign_performance"), fields=(_CAMPAIGN_ID, *_METRICS)
    ),
    extra=(
        Report(
            AD_GROUP_REPORT,
            iter_ad_group_page,
            report_date,
            fetch_ad_groups,
            fields=(_CAMPAIGN_ID, FieldSpec("ad_group_id", ("adGroup", "id"), "text"), *_METRICS),
            key=("ad_group_id",),
        ),
    ),
    lookback_days=14,
    attribution=ATTRIBUTION,
    connection=ConnectionConvention(
        "https://googleads.googleapis.com",
        login="client id",
        password="refresh token",
        extra="developer_token, client_secret, login_customer_id, token_url, api_version",
        required=("host", "login", "password", "extra.developer_token", "extra.client_secret"),
    ),
    build_client=build_client,
    account_id_from_ui=account_id_from_ui,
)


__all__ = [
    "SPEC",
    "build_client",
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
