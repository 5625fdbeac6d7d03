"""CSV and JSON file drops: reports from platforms without an API connection."""

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


__all__ = [
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
