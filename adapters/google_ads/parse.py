"""Google Ads searchStream bodies -> report rows, and Google's errors -> typed errors."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
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
from adapters.http import retry_after_seconds

REPORT = "campaign_performance"
AD_GROUP_REPORT = "ad_group_performance"  # FROM ad_group: one row per ad group and day
RATE_LIMIT_STATUSES = frozenset({"RESOURCE_EXHAUSTED", "RESOURCE_TEMPORARILY_EXHAUSTED"})
TRANSIENT_STATUSES = frozenset({"INTERNAL", "UNAVAILABLE", "DEADLINE_EXCEEDED", "ABORTED", "UNKNOWN"})
# Authorization errors a person fixes by granting access again (not by retrying).
REAUTH_ERROR_CODES = frozenset({"OAUTH_TOKEN_REVOKED", "OAUTH_TOKEN_INVALID", "OAUTH_TOKEN_DISABLED"})
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)s\s*$")


_load_json = jsonio.load_body


def parse_page(body: bytes, resources: tuple[str, ...] = ("campaign",)) -> list[dict]:
    """The rows of a searchStream body: every batch's ``results``, flattened, in order.

    A body is a JSON array of batches ``{"results": [...], "fieldMask", "requestId"}``;
    a batch without ``results`` holds no rows (proto3 JSON leaves out empty lists).
    Fields at their default value (zero clicks, ...) may be absent from a row: that
    means zero. Every row must carry the ``id`` of each of ``resources`` (the
    campaign; for ``FROM ad_group`` also the ad group). Raises ``BadResponseError``
    naming what is wrong otherwise.
    """
    return list(iter_page(body, resources))


def iter_page(body: bytes, resources: tuple[str, ...] = ("campaign",)) -> Iterator[dict]:
    """``parse_page`` a batch at a time: the loader COPYs one batch's rows while the next is decoded.

    The body is checked to be well-formed JSON before the first row is yielded.
    """
    batches: Iterable[object] | None = jsonio.array_elements(body)
    if batches is None:
        payload = _load_json(body)
        if isinstance(payload, dict) and "results" in payload:
            payload = [payload]  # a googleAds:search page has the same rows, unwrapped
        if not isinstance(payload, list):
            raise BadResponseError(f"expected a JSON array of batches, got {type(payload).__name__}")
        batches = payload
    else:
        batches = map(_load_json, batches)
    keys = [(resource, _camel(resource)) for resource in resources]
    for b, batch in enumerate(batches):
        if not isinstance(batch, dict):
            raise BadResponseError(f"batch {b} is a {type(batch).__name__}, not an object")
        if "error" in batch:
            error = batch["error"]
            status = error.get("status") if isinstance(error, dict) else None
            raise BadResponseError(f"batch {b} is an error ({status}): {_error_message(error)}")
        results = batch.get("results", [])
        if not isinstance(results, list):
            raise BadResponseError(f"batch {b}: 'results' is a {type(results).__name__}, not a list")
        for r, row in enumerate(results):
            if not isinstance(row, dict):
                raise BadResponseError(f"batch {b} results[{r}] is a {type(row).__name__}, not an object")
            segments = row.get("segments")
            if not isinstance(segments, dict) or not isinstance(segments.get("date"), str):
                raise BadResponseError(f"batch {b} results[{r}] has no segments.date")
            try:
                date.fromisoformat(segments["date"])
            except ValueError:
                raise BadResponseError(f"batch {b} results[{r}]: segments.date is not a date: {segments['date']!r}") from None
            for _, key in keys:
                entity = row.get(key)
                if not isinstance(entity, dict) or not isinstance(entity.get("id"), str):
                    raise BadResponseError(f"batch {b} results[{r}] has no {key}.id")
            yield row


def parse_ad_group_page(body: bytes) -> list[dict]:
    """The rows of a ``FROM ad_group`` searchStream body (each with ``adGroup.id`` and ``campaign.id``)."""
    return parse_page(body, ("campaign", "ad_group"))


def iter_ad_group_page(body: bytes) -> Iterator[dict]:
    """``parse_ad_group_page`` a batch at a time."""
    return iter_page(body, ("campaign", "ad_group"))


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def report_date(record: dict) -> date:
    """The day a row reports on (``segments.date``)."""
    return date.fromisoformat(record["segments"]["date"])


def _error_message(error: object) -> str:
    if not isinstance(error, dict):
        return str(error)[:300]
    parts = [str(error.get("message", ""))]
    for code, message in _failure_errors(error):
        parts.append(f"{code}: {message}" if message else code)
    return "; ".join(p for p in parts if p)


def _failure_errors(error: dict) -> list[tuple[str, str]]:
    """(errorCode value, message) for each GoogleAdsFailure error in ``details``."""
    found = []
    for detail in error.get("details") or []:
        if not isinstance(detail, dict):
            continue
        for item in detail.get("errors") or []:
            if not isinstance(item, dict):
                continue
            code = item.get("errorCode") or {}
            code_text = ",".join(str(v) for v in code.values()) if isinstance(code, dict) else str(code)
            found.append((code_text, str(item.get("message", ""))))
    return found


def _retry_delay(error: dict) -> float | None:
    """``quotaErrorDetails.retryDelay`` ("8962s") from the failure details, in seconds."""
    delays = []
    for detail in error.get("details") or []:
        if not isinstance(detail, dict):
            continue
        for item in detail.get("errors") or []:
            quota = ((item or {}).get("details") or {}).get("quotaErrorDetails") or {}
            match = _DURATION.match(str(quota.get("retryDelay", "")))
            if match:
                delays.append(float(match.group(1)))
        match = _DURATION.match(str(detail.get("retryDelay", "")))  # google.rpc.RetryInfo
        if match:
            delays.append(float(match.group(1)))
    return max(delays) if delays else None


def find_error(payload: object) -> dict | None:
    """The error object of an answer, plain ``{"error"}`` or wrapped ``[{"error"}]``."""
    if isinstance(payload, dict) and isinstance(payload.get("error"), dict):
        return payload["error"]
    if isinstance(payload, list):
        for item in payload:
            if isinstance(item, dict) and isinstance(item.get("error"), dict):
                return item["error"]
    return None


def classify(response: requests.Response) -> AdapterError | None:
    """Google Ads errors, whether plain, wrapped in an array, or at the end of a 200 stream."""
    status = response.status_code
    if status < 400 and b'"error"' not in response.content:
        return None
    try:
        error = find_error(response.json())
    except ValueError:
        error = None
    if error is None:
        if status < 400:
            return None  # not JSON or no error: parse_page reports what is wrong
        detail = f"HTTP {status}: body starts with {body_excerpt(response.content, 200)}"
        if status == 429:
            return RateLimitedError(
                detail,
                retry_after=retry_after_seconds(response.headers),
                status_code=status,
            )
        if status >= 500:
            return TransientError(detail, status_code=status)
        if status == 401:
            return AuthExpiredError(detail, status_code=status)
        return PermanentError(detail, status_code=status)
    code = error.get("code") if isinstance(error.get("code"), int) else status
    status_name = str(error.get("status", ""))
    detail = f"HTTP {status} {status_name or code}: {_error_message(error)}"
    kwargs = {"status_code": status, "code": status_name or code}
    if status_name in RATE_LIMIT_STATUSES or code == 429:
        retry_after = _retry_delay(error)
        if retry_after is None:
            retry_after = retry_after_seconds(response.headers)
        return RateLimitedError(detail, retry_after=retry_after, **kwargs)
    if status_name == "UNAUTHENTICATED" or code == 401:
        return AuthExpiredError(detail, **kwargs)
    if any(c in REAUTH_ERROR_CODES for c, _ in _failure_errors(error)):
        reauth = ReauthRequiredError(detail, **kwargs)
        reauth.action = (
            "The Google account behind the Connection lost access to this customer: a user with access must "
            "sign in again (new OAuth refresh token in the account's Airflow Connection) or re-grant access."
        )
        return reauth
    if status_name in TRANSIENT_STATUSES or code >= 500:
        return TransientError(detail, **kwargs)
    return PermanentError(detail, **kwargs)
