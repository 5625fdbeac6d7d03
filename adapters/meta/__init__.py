"""Meta Marketing API: Insights at campaign level, one row per campaign and day."""

from adapters.meta.client import FIELDS, MetaInsightsClient
from adapters.meta.parse import REPORT, classify, parse_page, report_date

__all__ = [
    "FIELDS",
    "REPORT",
    "MetaInsightsClient",
    "classify",
    "parse_page",
    "report_date",
]
