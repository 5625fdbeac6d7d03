"""Amazon Ads report files -> report rows, and Amazon's errors -> typed errors.

A report file is gzip-compressed JSON: a flat array of rows with numeric values
(``{"date", "campaignId", "campaignName", "impressions", "clicks", "cost",
"purchases7d", "sales7d"}``). The lake stores the decompressed JSON.
"""

from __future__ import annotations

import gzip
import json
import re
from datetime import date

import requests

from adapters.errors import (
    AdapterError,
    AuthExpiredError,
    BadResponseError,
    PermanentError,
    RateLimitedError,
    TransientError,
    body_excerpt,
)
from adapters.http import error_body, retry_after_seconds

REPORT = "sp_campaigns"
AD_GROUP_REPORT = "sp_ad_groups"
_UUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


class DuplicateReportError(PermanentError):
    """HTTP 425: the same report was already requested; ``report_id`` is the existing one."""

    def __init__(self, message: str, *, report_id: str | None = None, **kwargs) -> None:
        super().__init__(message, **kwargs)
        self.report_id = report_id


def decompress(body: bytes) -> bytes:
    """The JSON of a downloaded report (gzip, as Amazon serves it; plain JSON passes through)."""
    if body[:2] == b"\x1f\x8b":
        try:
            return gzip.decompress(body)
        except (OSError, EOFError) as exc:
            raise BadResponseError(f"report file is not valid gzip ({exc})") from None
    return body


def parse_page(body: bytes) -> list[dict]:
    try:
        rows = json.loads(decompress(body))
    except (ValueError, UnicodeDecodeError):
        raise BadResponseError(f"report file is not JSON (starts with {body_excerpt(body)})") from None
    if not isinstance(rows, list):
        raise BadResponseError(f"expected a JSON array of rows, got {type(rows).__name__}")
    for i, row in enumerate(rows):
        if not isinstance(row, dict) or row.get("campaignId") is None:
            raise BadResponseError(f"row {i} has no campaignId")
        try:
            report_date(row)
        except (KeyError, TypeError, ValueError):
            raise BadResponseError(f"row {i} has no valid date: {row.get('date')!r}") from None
    return rows


def parse_ad_group_page(body: bytes) -> list[dict]:
    """Rows of an ad group report (``groupBy: ["adGroup"]``): each must name its ad group."""
    rows = parse_page(body)
    for i, row in enumerate(rows):
        if row.get("adGroupId") is None:
            raise BadResponseError(f"row {i} has no adGroupId")
    return rows


def report_date(record: dict) -> date:
    return date.fromisoformat(record["date"])


def duplicate_report_id(detail: str) -> str | None:
    """The existing report id in a 425 ``detail`` ("The Request is a duplicate of : <uuid>")."""
    match = _UUID.search(detail or "")
    return match.group(0) if match else None


def classify(response: requests.Response) -> AdapterError | None:
    status = response.status_code
    payload = error_body(response)
    if payload is None:
        return None
    message = str(
        payload.get("detail") or payload.get("details") or payload.get("message") or body_excerpt(response.content, 200)
    )
    detail = f"HTTP {status} {payload.get('code', '')}: {message}"
    kwargs = {"status_code": status, "code": payload.get("code")}
    if status == 425:
        return DuplicateReportError(detail, report_id=duplicate_report_id(message), **kwargs)
    if status == 401:
        return AuthExpiredError(detail, **kwargs)
    if status == 429:
        return RateLimitedError(detail, retry_after=retry_after_seconds(response.headers), **kwargs)
    if status >= 500:
        return TransientError(detail, **kwargs)
    return PermanentError(detail, **kwargs)
