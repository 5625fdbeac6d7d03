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


def parse_page(body: bytes) -> list[dict]:
    """Canonical rows of a stored batch page (``{"rows": [...]}``), as the loader writes them."""
    import json

    return json.loads(body)["rows"]


__all__ = [
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
