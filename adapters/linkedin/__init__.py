"""LinkedIn Marketing API: daily campaign analytics (Rest.li encoded, no paging)."""

from adapters.linkedin.client import DEFAULT_TOKEN_URL, FIELDS, LinkedInAnalyticsClient, analytics_query
from adapters.linkedin.parse import REPORT, classify, parse_page, report_date


def fetch(client: LinkedInAnalyticsClient, account_id: str, since, until):
    return client.fetch_ad_analytics(account_id, since, until)


__all__ = ["DEFAULT_TOKEN_URL", "FIELDS", "REPORT", "LinkedInAnalyticsClient", "analytics_query", "classify", "fetch", "parse_page", "report_date"]
