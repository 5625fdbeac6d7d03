"""Snapchat stats bodies -> report rows, and Snapchat's errors -> typed errors.

Status strings come as ``SUCCESS`` and as ``success``: compared case-insensitively.
A stats body holds one ``timeseries_stat`` per campaign; its ``timeseries`` elements
(one per day) do not say which campaign they are, so each row is the element with
the stat's ``id``, ``type`` and ``granularity`` copied in. ``spend`` and
``conversion_purchases_value`` stay micro-currency integers (staging divides).
"""

from __future__ import annotations

from datetime import date, datetime

import requests

from adapters import jsonio
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

REPORT = "campaign_stats"
CAMPAIGNS_REPORT = "campaigns"
AD_SQUAD_STATS_REPORT = "ad_squad_stats"
AD_SQUADS_REPORT = "ad_squads"


def is_success(status: object) -> bool:
    return isinstance(status, str) and status.upper() == "SUCCESS"


def load_json(body: bytes) -> dict:
    payload = jsonio.load_body(body)
    if not isinstance(payload, dict):
        raise BadResponseError(f"expected a JSON object, got {type(payload).__name__}")
    if not is_success(payload.get("request_status")):
        raise BadResponseError(f"request_status is {payload.get('request_status')!r}: {payload.get('debug_message') or payload.get('msg')}")
    return payload


def _entities(body: bytes, key: str, singular: str) -> list[dict]:
    """The entities of a list page (``{key: [{sub_request_status, singular: {...}}]}``), as sent.

    An entity whose ``sub_request_status`` is not a success is an error, not one to
    skip: skipping it would silently drop its stats and its name.
    """
    payload = load_json(body)
    items = payload.get(key)
    if not isinstance(items, list):
        raise BadResponseError(f"no {key} list in the body")
    entities: list[dict] = []
    for i, item in enumerate(items):
        if not isinstance(item, dict) or not is_success(item.get("sub_request_status")):
            raise BadResponseError(f"{key}[{i}] did not succeed: {str(item)[:200]}")
        entity = item.get(singular)
        if not isinstance(entity, dict) or not isinstance(entity.get("id"), str):
            raise BadResponseError(f"{key}[{i}] has no {singular} with an id")
        entities.append(entity)
    return entities


def parse_campaigns_page(body: bytes) -> list[dict]:
    """The ``campaign`` entities of a ``/adaccounts/{id}/campaigns`` page, as sent."""
    return _entities(body, "campaigns", "campaign")


def parse_ad_squads_page(body: bytes) -> list[dict]:
    """The ``adsquad`` entities of a ``/adaccounts/{id}/adsquads`` page, as sent (with ``campaign_id``)."""
    squads = _entities(body, "adsquads", "adsquad")
    for i, squad in enumerate(squads):
        if not isinstance(squad.get("campaign_id"), str):
            raise BadResponseError(f"adsquads[{i}] has no campaign_id")
    return squads


def next_page_link(body: bytes) -> str | None:
    """``paging.next_link`` of a list page; None on the last page."""
    return (load_json(body).get("paging") or {}).get("next_link") or None


def _successful_stats(body: bytes) -> list[dict]:
    stats = load_json(body).get("timeseries_stats")
    if not isinstance(stats, list):
        raise BadResponseError("no timeseries_stats list in the body")
    found = []
    for i, item in enumerate(stats):
        if not isinstance(item, dict) or not is_success(item.get("sub_request_status")):
            raise BadResponseError(f"timeseries_stats[{i}] did not succeed: {str(item)[:200]}")
        found.append(item.get("timeseries_stat"))
    return found


def _series_rows(stat: object, where: str, extra: dict | None = None) -> list[dict]:
    """One row per element of a stat's ``timeseries``, with the stat's id, type and granularity."""
    if not isinstance(stat, dict) or not isinstance(stat.get("id"), str) or not isinstance(stat.get("timeseries"), list):
        raise BadResponseError(f"{where} has no timeseries_stat with an id and a timeseries")
    rows = []
    for j, element in enumerate(stat["timeseries"]):
        if not isinstance(element, dict) or not isinstance(element.get("stats"), dict):
            raise BadResponseError(f"{where}.timeseries[{j}] has no stats")
        try:
            local_day(element.get("start_time"))
        except (TypeError, ValueError):
            raise BadResponseError(f"{where}.timeseries[{j}].start_time is not a time: {element.get('start_time')!r}") from None
        rows.append({"id": stat["id"], "type": stat.get("type"), "granularity": stat.get("granularity"), **(extra or {}), **element})
    return rows


def check_attribution_windows(body: bytes, swipe_up: str, view: str) -> None:
    """Each stat's windows, where the body states them, must be the ones asked for (else the numbers are
    under another attribution than every other day's)."""
    for i, stat in enumerate(_successful_stats(body)):
        for key, asked in (("swipe_up_attribution_window", swipe_up), ("view_attribution_window", view)):
            said = (stat or {}).get(key)
            if said is not None and said != asked:
                raise BadResponseError(f"timeseries_stats[{i}] reports {key} {said}, not the {asked} asked for")


def parse_page(body: bytes) -> list[dict]:
    """One row per campaign and day from a ``/campaigns/{id}/stats`` body."""
    return [row for i, stat in enumerate(_successful_stats(body)) for row in _series_rows(stat, f"timeseries_stats[{i}]")]


def parse_ad_squad_stats_page(body: bytes) -> list[dict]:
    """One row per ad squad and day from a ``/campaigns/{id}/stats?breakdown=adsquad`` body.

    The rows are the elements of ``breakdown_stats.adsquad[].timeseries`` with the ad
    squad's ``id``/``type`` and the parent campaign's id as ``campaign_id``.
    """
    rows: list[dict] = []
    for i, stat in enumerate(_successful_stats(body)):
        squads = (stat.get("breakdown_stats") or {}).get("adsquad") if isinstance(stat, dict) else None
        if not isinstance(squads, list):
            raise BadResponseError(f"timeseries_stats[{i}] has no breakdown_stats.adsquad list")
        for k, squad in enumerate(squads):
            rows.extend(_series_rows(squad, f"timeseries_stats[{i}].breakdown_stats.adsquad[{k}]", {"campaign_id": stat.get("id")}))
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
    payload = error_body(response)
    if payload is None:
        return None
    message = str(payload.get("debug_message") or payload.get("msg") or payload.get("display_message") or "")
    code = payload.get("error_code")
    detail = f"HTTP {status} {code or ''}: {message or body_excerpt(response.content, 200)}"
    kwargs = {"status_code": status, "code": code}
    if status == 401:
        return AuthExpiredError(detail, **kwargs)
    if status == 429:
        return RateLimitedError(detail, retry_after=retry_after_seconds(response.headers), **kwargs)
    if status >= 500:
        return TransientError(detail, **kwargs)
    return PermanentError(detail, **kwargs)
