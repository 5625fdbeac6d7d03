"""CSV and JSON file drops: reports from platforms without an API connection."""

from adapters.catalogue import PlatformSpec, Report
from adapters.file_drop.parse import (
    FIELDS,
    FORMATS,
    REPORT,
    REQUIRED_FIELDS,
    BadRow,
    FileDropFormat,
    FileRejected,
    ParsedFile,
    parse_file,
    report_date,
)

# What ops.workspace_accounts.attribution_window records for every account of this platform.
ATTRIBUTION = "as the file's exporter set it"


def parse_page(body: bytes) -> list[dict]:
    """Canonical rows of a stored batch page (``{"rows": [...]}``), as the loader writes them."""
    import json

    return json.loads(body)["rows"]


# No Connection and no fetch: files are read from the workspace's inbox (ads_elt.ingestion.file_drop). The lookback
# is none: files are loaded as dropped, and a later file restates the days it covers.
SPEC = PlatformSpec(
    name="file_drop",
    label="File drop",
    order=70,
    primary=Report(REPORT, parse_page, report_date),
    lookback_days=0,
    attribution=ATTRIBUTION,
    account_id_pattern=r"^[a-z][a-z0-9_]{0,62}$",  # an account is a name
)


__all__ = [
    "SPEC",
    "ATTRIBUTION",
    "FIELDS",
    "FORMATS",
    "REPORT",
    "REQUIRED_FIELDS",
    "BadRow",
    "FileDropFormat",
    "FileRejected",
    "ParsedFile",
    "parse_file",
    "parse_page",
    "report_date",
]
