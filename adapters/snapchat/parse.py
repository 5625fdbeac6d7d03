"""Snapchat stats bodies -> report rows, and Snapchat's errors -> typed errors.

Status strings come as ``SUCCESS`` and as ``success``: compared case-insensitively.
A stats body holds one ``timeseries_stat`` per campaign; its ``timeseries`` elements
(one per day) do not say which campaign they are, so each row is the element with
the stat's ``id``, ``type`` and ``granularity`` copied in. ``spend`` and
``conversion_purchases_value`` stay micro-currency integers (staging divides).
"""

from __future__ import annotations

import json
from datetime import date, datetime

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
from adapters.http import retry_after_seconds

REPORT = "campaign_stats"
CAMPAIGNS_REPORT = "campaigns"


def is_success(status: object) -> bool:
    return isinstance(status, str) and status.upper() == "SUCCESS"


def load_json(body: bytes) -> dict:
    try:
        payload = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        raise BadResponseError(f"body is not JSON (starts with {body_excerpt(body)})") from None
    if not isinstance(payload, dict):
        raise BadResponseError(f"expected a JSON object, got {type(payload).__name__}")
    if not is_success(payload.get("request_status")):
        raise BadResponseError(f"request_status is {payload.get('request_status')!r}: {payload.get('debug_message') or payload.get('msg')}")
    return payload


def parse_campaigns_page(body: bytes) -> list[dict]:
    """The ``campaign`` entities of a ``/adaccounts/{id}/campaigns`` page, as sent.

    A campaign whose ``sub_request_status`` is not a success is an error, not a
    campaign to skip: skipping it would silently drop its stats and its name.
    """
    payload = load_json(body)
    items = payload.get("campaigns")
    if not isinstance(items, list):
        raise BadResponseError("no campaigns list in the body")
    campaigns: list[dict] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not is_success(item.get("sub_request_status")):
            raise BadResponseError(f"campaigns[{i}] did not succeed: {str(item)[:200]}")
        campaign = item.get("campaign")
        if not isinstance(campaign, dict) or not isinstance(campaign.get("id"), str):
            raise BadResponseError(f"campaigns[{i}] has no campaign with an id")
        campaigns.append(campaign)
    return campaigns


def next_page_link(body: bytes) -> str | None:
    """``paging.next_link`` of a list page; None on the last page."""
    return (load_json(body).get("paging") or {}).get("next_link") or None


def parse_page(body: bytes) -> list[dict]:
    """One row per campaign and day from a ``/campaigns/{id}/stats`` body."""
    payload = load_json(body)
    stats = payload.get("timeseries_stats")
    if not isinstance(stats, list):
        raise BadResponseError("no timeseries_stats list in the body")
    rows: list[dict] = []
    for i, item in enumerate(stats):
        if not isinstance(item, dict) or not is_success(item.get("sub_request_status")):
            raise BadResponseError(f"timeseries_stats[{i}] did not succeed: {str(item)[:200]}")
        stat = item.get("timeseries_stat")
        if not isinstance(stat, dict) or not isinstance(stat.get("id"), str) or not isinstance(stat.get("timeseries"), list):
            raise BadResponseError(f"timeseries_stats[{i}] has no timeseries_stat with an id and a timeseries")
        for j, element in enumerate(stat["timeseries"]):
            if not isinstance(element, dict) or not isinstance(element.get("stats"), dict):
                raise BadResponseError(f"timeseries_stats[{i}].timeseries[{j}] has no stats")
            try:
                local_day(element.get("start_time"))
            except (TypeError, ValueError):
                raise BadResponseError(f"timeseries_stats[{i}].timeseries[{j}].start_time is not a time: {element.get('start_time')!r}") from None
            rows.append({"id": stat["id"], "type": stat.get("type"), "granularity": stat.get("granularity"), **element})
    return rows


def local_day(start_time: object) -> date:
    """The account-local day of ``2026-11-01T00:00:00.000+01:00``: the date as written, not in UTC."""
    if not isinstance(start_time, str):
        raise TypeError("not a string")
    datetime.fromisoformat(start_time.replace("Z", "+00:00"))  # must be a timestamp
    return date.fromisoformat(start_time[:10])


def report_date(record: dict) -> date:
    return local_day(record["start_time"])


def classify(response: requests.Response) -> AdapterError | None:
    """401 -> refresh the 30-minute token; 429 (no Retry-After) -> back off; 5xx -> retry."""
    status = response.status_code
    if status < 400:
        return None
    try:
        payload = response.json()
    except ValueError:
        payload = {}
    message = ""
    if isinstance(payload, dict):
        message = str(payload.get("debug_message") or payload.get("msg") or payload.get("display_message") or "")
        code = payload.get("error_code")
    else:
        code = None
    detail = f"HTTP {status} {code or ''}: {message or body_excerpt(response.content, 200)}"
    kwargs = {"status_code": status, "code": code}
    if status == 401:
        return AuthExpiredError(detail, **kwargs)
    if status == 429:
        return RateLimitedError(detail, retry_after=retry_after_seconds(response.headers), **kwargs)
    if status >= 500:
        return TransientError(detail, **kwargs)
    return PermanentError(detail, **kwargs)
