"""LinkedIn adAnalytics bodies -> report rows, and LinkedIn's errors -> typed errors.

A row is one element of ``elements`` as sent: ``dateRange`` as year/month/day
objects, ``pivotValues`` with the campaign URN, counts as integers, and
``costInLocalCurrency`` / ``conversionValueInLocalCurrency`` as long-precision
strings (kept as strings: staging casts them to exact numerics).
"""

from __future__ import annotations

from datetime import date

import requests

from adapters import jsonio
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
from adapters.http import error_body, retry_after_seconds

REPORT = "ad_analytics"
CAMPAIGNS_REPORT = "campaigns"
CAMPAIGN_GROUPS_REPORT = "campaign_groups"
CREATIVE_ANALYTICS_REPORT = "creative_analytics"
CREATIVES_REPORT = "creatives"
CAMPAIGN_URN = "urn:li:sponsoredCampaign:"
CREATIVE_URN = "urn:li:sponsoredCreative:"
CAMPAIGN_GROUP_URN = "urn:li:sponsoredCampaignGroup:"


def _payload(body: bytes) -> dict:
    payload = jsonio.load_body(body)
    if not isinstance(payload, dict):
        raise BadResponseError(f"expected a JSON object, got {type(payload).__name__}")
    return payload


def _elements(body: bytes) -> list[dict]:
    elements = _payload(body).get("elements")
    if not isinstance(elements, list):
        raise BadResponseError("no 'elements' list in the body")
    for i, element in enumerate(elements):
        if not isinstance(element, dict):
            raise BadResponseError(f"elements[{i}] is not an object")
    return elements


def _entities(body: bytes, what: str) -> list[dict]:
    elements = _elements(body)
    for i, element in enumerate(elements):
        if not isinstance(element.get("id"), int | str) or not str(element["id"]).isdigit():
            raise BadResponseError(f"elements[{i}] has no numeric {what} id")
    return elements


def parse_campaigns_page(body: bytes) -> list[dict]:
    """An ``adCampaigns`` page: each element as sent (``id`` a number, ``campaignGroup`` a URN)."""
    elements = _entities(body, "campaign")
    for i, element in enumerate(elements):
        if element.get("campaignGroup") is not None and not str(element["campaignGroup"]).startswith(CAMPAIGN_GROUP_URN):
            raise BadResponseError(f"elements[{i}].campaignGroup is not a campaign group URN: {element['campaignGroup']!r}")
    return elements


def parse_campaign_groups_page(body: bytes) -> list[dict]:
    """An ``adCampaignGroups`` page: each element as sent."""
    return _entities(body, "campaign group")


def parse_creatives_page(body: bytes) -> list[dict]:
    """A ``creatives?q=criteria`` page: each element as sent (``id`` a creative URN, ``campaign`` a URN)."""
    elements = _elements(body)
    for i, element in enumerate(elements):
        if not str(element.get("id", "")).startswith(CREATIVE_URN):
            raise BadResponseError(f"elements[{i}].id is not a creative URN: {element.get('id')!r}")
        if not str(element.get("campaign", "")).startswith(CAMPAIGN_URN):
            raise BadResponseError(f"elements[{i}].campaign is not a campaign URN: {element.get('campaign')!r}")
    return elements


def next_page_token(body: bytes) -> str | None:
    """``metadata.nextPageToken`` of a finder page; None on the last page."""
    token = (_payload(body).get("metadata") or {}).get("nextPageToken")
    return str(token) if token else None


def parse_page(body: bytes) -> list[dict]:
    """An adAnalytics ``pivot=CAMPAIGN`` body: its elements as sent."""
    return _analytics_elements(body, CAMPAIGN_URN, "campaign")


def parse_creative_analytics_page(body: bytes) -> list[dict]:
    """An adAnalytics ``pivot=CREATIVE`` body: its elements as sent (pivotValues a creative URN)."""
    return _analytics_elements(body, CREATIVE_URN, "creative")


def _analytics_elements(body: bytes, urn_prefix: str, what: str) -> list[dict]:
    elements = _elements(body)
    for i, element in enumerate(elements):
        pivots = element.get("pivotValues")
        if not isinstance(pivots, list) or not pivots or not str(pivots[0]).startswith(urn_prefix):
            raise BadResponseError(f"elements[{i}] has no {what} URN in pivotValues")
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
    payload = error_body(response)
    if payload is None:
        return None
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
