"""LinkedIn adAnalytics bodies -> report rows, and LinkedIn's errors -> typed errors.

A row is one element of ``elements`` as sent: ``dateRange`` as year/month/day
objects, ``pivotValues`` with the campaign URN, counts as integers, and
``costInLocalCurrency`` / ``conversionValueInLocalCurrency`` as long-precision
strings (kept as strings: staging casts them to exact numerics).
"""

from __future__ import annotations

import json
from datetime import date

import requests

from adapters.errors import (
    AdapterError,
    AuthExpiredError,
    BadResponseError,
    PermanentError,
    RateLimitedError,
    ReauthRequiredError,
    TransientError,
    body_excerpt,
)
from adapters.http import retry_after_seconds

REPORT = "ad_analytics"
CAMPAIGN_URN = "urn:li:sponsoredCampaign:"


def parse_page(body: bytes) -> list[dict]:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadResponseError(f"body is not JSON (starts with {body_excerpt(body)})") from None
    elements = payload.get("elements") if isinstance(payload, dict) else None
    if not isinstance(elements, list):
        raise BadResponseError("no 'elements' list in the body")
    for i, element in enumerate(elements):
        if not isinstance(element, dict):
            raise BadResponseError(f"elements[{i}] is not an object")
        pivots = element.get("pivotValues")
        if not isinstance(pivots, list) or not pivots or not str(pivots[0]).startswith(CAMPAIGN_URN):
            raise BadResponseError(f"elements[{i}] has no campaign URN in pivotValues")
        try:
            report_date(element)
        except (KeyError, TypeError, ValueError):
            raise BadResponseError(f"elements[{i}].dateRange.start is not a date") from None
    return elements


def report_date(record: dict) -> date:
    start = record["dateRange"]["start"]
    return date(int(start["year"]), int(start["month"]), int(start["day"]))


def classify(response: requests.Response) -> AdapterError | None:
    status = response.status_code
    if status < 400:
        return None
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    payload = payload if isinstance(payload, dict) else {}
    code, service = payload.get("code"), payload.get("serviceErrorCode")
    detail = f"HTTP {status} {code or ''} {service or ''}: {payload.get('message') or body_excerpt(response.content, 200)}"
    kwargs = {"status_code": status, "code": code or service}
    if status == 401 and (code == "REVOKED_ACCESS_TOKEN" or service == 65601):
        return ReauthRequiredError(detail, **kwargs)
    if status == 401:
        return AuthExpiredError(detail, **kwargs)  # EXPIRED_ACCESS_TOKEN (65602): refresh if a refresh token is set
    if status == 429:
        return RateLimitedError(detail, retry_after=retry_after_seconds(response.headers), **kwargs)
    if status >= 500:
        return TransientError(detail, **kwargs)
    return PermanentError(detail, **kwargs)
