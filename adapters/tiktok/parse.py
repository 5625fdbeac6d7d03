"""TikTok report bodies -> report rows, and TikTok's answers -> typed errors.

TikTok answers errors with HTTP 200 and a non-zero ``code``:

| code          | meaning                               | error                          |
|---------------|---------------------------------------|--------------------------------|
| 40100         | too many requests                     | RateLimitedError (retry later) |
| 50000         | system error                          | TransientError (retry)         |
| 40001, 40002  | no permission / advertiser inaccessible | PermanentError (skip, report) |
| 40067         | time range too large                  | WindowTooLargeError (shrink)   |
| 40102, 40104, 40105 | token invalid or revoked        | ReauthRequiredError            |
"""

from __future__ import annotations

from datetime import date

import requests

from adapters import jsonio
from adapters.errors import (
    AdapterError,
    BadResponseError,
    PermanentError,
    RateLimitedError,
    ReauthRequiredError,
    TransientError,
)

REPORT = "campaign_report"
AD_GROUP_REPORT = "ad_group_report"
RATE_LIMIT_CODES = frozenset({40100, 40133})
TRANSIENT_CODES = frozenset({50000, 50002, 51000})
REAUTH_CODES = frozenset({40102, 40104, 40105})
WINDOW_TOO_LARGE_CODES = frozenset({40067})


class WindowTooLargeError(PermanentError):
    """TikTok refused the date range as too large (code 40067): ask for fewer days."""


_load_json = jsonio.load_body


def _envelope(body: bytes) -> dict:
    payload = _load_json(body)
    if not isinstance(payload, dict) or "code" not in payload:
        raise BadResponseError("expected a TikTok envelope {code, message, data}")
    return payload


def parse_page(body: bytes) -> list[dict]:
    """The rows of one campaign report page: ``data.list``, each ``{"dimensions", "metrics"}`` as sent.

    Metrics stay strings (``"-"`` included); the staging model parses them.
    """
    return _rows(body, "campaign_id")


def parse_ad_group_page(body: bytes) -> list[dict]:
    """The rows of one ad group report page (``dimensions.adgroup_id``), as sent."""
    rows = _rows(body, "adgroup_id")
    for index, row in enumerate(rows):
        if not isinstance(row["metrics"].get("campaign_id"), str | int):
            raise BadResponseError(f"data.list[{index}] has no metrics.campaign_id (requested with the ad group report)")
    return rows


def _rows(body: bytes, id_dimension: str) -> list[dict]:
    payload = _envelope(body)
    if payload["code"] != 0:
        raise BadResponseError(f"body is an error (code {payload['code']}): {payload.get('message')}")
    data = payload.get("data")
    rows = data.get("list") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise BadResponseError("no data.list in the body")
    for index, row in enumerate(rows):
        dims = row.get("dimensions") if isinstance(row, dict) else None
        if not isinstance(dims, dict) or not isinstance(dims.get(id_dimension), str | int):
            raise BadResponseError(f"data.list[{index}] has no dimensions.{id_dimension}")
        try:
            _day(dims.get("stat_time_day"))
        except (TypeError, ValueError):
            raise BadResponseError(f"data.list[{index}].dimensions.stat_time_day is not a day: {dims.get('stat_time_day')!r}") from None
        if not isinstance(row.get("metrics"), dict):
            raise BadResponseError(f"data.list[{index}] has no metrics object")
    return rows


def page_info(body: bytes) -> dict:
    info = (_envelope(body).get("data") or {}).get("page_info")
    if not isinstance(info, dict):
        raise BadResponseError("no data.page_info in the body")
    return info


def _day(text: object) -> date:
    """``"2025-11-12 00:00:00"`` -> 2025-11-12 (the advertiser's time zone)."""
    if not isinstance(text, str):
        raise TypeError("not a string")
    return date.fromisoformat(text[:10])


def report_date(record: dict) -> date:
    return _day(record["dimensions"]["stat_time_day"])


def classify(response: requests.Response) -> AdapterError | None:
    """Errors in the body of a 200 (``code`` != 0), then HTTP status for the rest."""
    try:
        payload = response.json()
    except ValueError:
        return None  # not JSON: the status fallback or parse_page reports it
    if not isinstance(payload, dict) or not isinstance(payload.get("code"), int) or payload["code"] == 0:
        return None
    code = payload["code"]
    detail = f"TikTok code {code}: {payload.get('message', '')} (request_id {payload.get('request_id', '?')})"
    kwargs = {"status_code": response.status_code, "code": code}
    if code in RATE_LIMIT_CODES:
        return RateLimitedError(detail, **kwargs)
    if code in TRANSIENT_CODES:
        return TransientError(detail, **kwargs)
    if code in WINDOW_TOO_LARGE_CODES:
        return WindowTooLargeError(detail, **kwargs)
    if code in REAUTH_CODES:
        return ReauthRequiredError(detail, **kwargs)
    return PermanentError(detail, **kwargs)
