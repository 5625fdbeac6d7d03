"""Google Ads API (REST): daily campaign performance via googleAds:searchStream."""

from adapters.google_ads.client import DEFAULT_TOKEN_URL, QUERY, GoogleAdsClient
from adapters.google_ads.parse import REPORT, classify, parse_page, report_date

__all__ = [
    "DEFAULT_TOKEN_URL",
    "QUERY",
    "REPORT",
    "GoogleAdsClient",
    "classify",
    "parse_page",
    "report_date",
]
