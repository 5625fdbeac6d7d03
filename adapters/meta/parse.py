"""Meta Insights bodies -> report rows, and Meta's error answers -> typed errors."""

from __future__ import annotations

import json
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
    body_excerpt,
)

REPORT = "insights"
ADSET_REPORT = "adset_insights"  # level=adset: one row per ad set and day
AD_REPORT = "ad_insights"  # level=ad: one row per ad and day
THROTTLING_CODES = frozenset({4, 17, 32, 613, *range(80000, 80015)})
# 190 = invalid OAuth token (subcode 463 expired, 460 password changed, 458 app removed, 467 invalid);
# 102 = session key invalid.
REAUTH_CODES = frozenset({102, 190})
TRANSIENT_CODES = frozenset({1, 2})
REAUTH_ACTIONS = {
    463: "The Meta access token expired: generate a new system-user token in Business Manager and store it "
    "as the password of the account's Airflow Connection.",
    460: "The Meta user changed their password, which invalidated the token: log in again, generate a new token "
    "and store it in the account's Airflow Connection.",
    458: "The app was removed from the Meta user or business: re-install the app, grant ads_read on the ad "
    "account and store the new token in the account's Airflow Connection.",
}
DEFAULT_REAUTH_ACTION = (
    "Meta no longer accepts the token for this ad account: re-grant ads_read access to the ad account, "
    "generate a new token and store it in the account's Airflow Connection."
)
# Above this share of the ad account's or app's quota (x-fb-ads-insights-throttle), slow down.
USAGE_SLOWDOWN_PCT = 75.0
USAGE_MAX_PAUSE = 60.0


_load_json = jsonio.load_body


def parse_page(body: bytes, ids: tuple[str, ...] = ("campaign_id",)) -> list[dict]:
    """The rows of one Insights page: the elements of ``data``.

    Raises ``BadResponseError`` naming what is wrong when the body is not JSON or not
    ``{"data": [{..., "date_start": "YYYY-MM-DD"}, ...]}`` with the level's string ``ids``.
    """
    payload = _load_json(body)
    if not isinstance(payload, dict):
        raise BadResponseError(f"expected a JSON object, got {type(payload).__name__}")
    if "error" in payload:
        error = payload["error"]
        message = error.get("message") if isinstance(error, dict) else error
        raise BadResponseError(f"body is an error object, not data: {message}")
    data = payload.get("data")
    if not isinstance(data, list):
        raise BadResponseError("no 'data' list in the body" if data is None else f"'data' is a {type(data).__name__}, not a list")
    for index, record in enumerate(data):
        if not isinstance(record, dict):
            raise BadResponseError(f"data[{index}] is a {type(record).__name__}, not an object")
        for key in (*ids, "date_start"):
            if not isinstance(record.get(key), str):
                raise BadResponseError(f"data[{index}] has no string {key!r}")
        try:
            date.fromisoformat(record["date_start"])
        except ValueError:
            raise BadResponseError(f"data[{index}].date_start is not a date: {record['date_start']!r}") from None
    return data


def parse_adset_page(body: bytes) -> list[dict]:
    """The rows of one level=adset Insights page (each names its campaign and ad set)."""
    return parse_page(body, ("campaign_id", "adset_id"))


def parse_ad_page(body: bytes) -> list[dict]:
    """The rows of one level=ad Insights page (each names its campaign, ad set and ad)."""
    return parse_page(body, ("campaign_id", "adset_id", "ad_id"))


def report_date(record: dict) -> date:
    """The day a row reports on (time_increment=1 rows span one day)."""
    return date.fromisoformat(record["date_start"])


def _regain_access_seconds(response: requests.Response) -> float | None:
    """The longest ``estimated_time_to_regain_access`` (minutes) in the usage headers, as seconds."""
    minutes: list[float] = []
    for header in ("X-Business-Use-Case-Usage", "X-Ad-Account-Usage"):
        raw = response.headers.get(header)
        if not raw:
            continue
        try:
            usage = json.loads(raw)
        except ValueError:
            continue
        entries = []
        if isinstance(usage, dict):
            for value in usage.values():
                entries.extend(value if isinstance(value, list) else [value])
            entries.append(usage)
        for entry in entries:
            if isinstance(entry, dict):
                value = entry.get("estimated_time_to_regain_access")
                if isinstance(value, int | float):
                    minutes.append(float(value))
    if not minutes or max(minutes) <= 0:
        return None
    return max(minutes) * 60.0


def usage_pause(response: requests.Response) -> float | None:
    """Seconds to pause before the next call, from the usage headers of a good answer.

    ``estimated_time_to_regain_access`` (minutes) in the business-use-case or ad-account
    usage headers is a hard wait; otherwise the pause grows from 0 at 75% of the quota
    (``acc_id_util_pct`` / ``app_id_util_pct`` in ``x-fb-ads-insights-throttle``) to a
    minute at 100%, so a long backfill slows down before Meta blocks it.
    """
    regain = _regain_access_seconds(response)
    if regain:
        return regain
    raw = response.headers.get("x-fb-ads-insights-throttle")
    if not raw:
        return None
    try:
        throttle = json.loads(raw)
        pct = max(float(throttle.get("acc_id_util_pct") or 0), float(throttle.get("app_id_util_pct") or 0))
    except (ValueError, TypeError, AttributeError):
        return None
    if pct <= USAGE_SLOWDOWN_PCT:
        return None
    return min(USAGE_MAX_PAUSE, USAGE_MAX_PAUSE * (pct - USAGE_SLOWDOWN_PCT) / (100.0 - USAGE_SLOWDOWN_PCT))


def classify(response: requests.Response) -> AdapterError | None:
    """Meta's error answers: throttling comes as HTTP 400 (or 403), not 429."""
    status = response.status_code
    if status < 400:
        return None
    try:
        error = response.json().get("error")
    except (ValueError, AttributeError):
        error = None
    if not isinstance(error, dict):
        detail = f"HTTP {status}: body starts with {body_excerpt(response.content, 200)}"
        if status >= 500:
            return TransientError(detail, status_code=status)
        if status == 429:
            return RateLimitedError(detail, status_code=status)
        return PermanentError(detail, status_code=status)
    code = error.get("code")
    subcode = error.get("error_subcode")
    detail = (
        f"HTTP {status} {error.get('type', 'error')} code {code}"
        + (f"/{subcode}" if subcode is not None else "")
        + f": {error.get('message', '')}"
        + (f" (fbtrace_id {error['fbtrace_id']})" if error.get("fbtrace_id") else "")
    )
    kwargs = {"status_code": status, "code": code}
    if code in THROTTLING_CODES or status == 429:
        return RateLimitedError(detail, retry_after=_regain_access_seconds(response), **kwargs)
    if code in REAUTH_CODES:
        reauth = ReauthRequiredError(detail, **kwargs)
        reauth.action = REAUTH_ACTIONS.get(subcode, DEFAULT_REAUTH_ACTION)
        return reauth
    if code in TRANSIENT_CODES or status >= 500 or error.get("is_transient") is True:
        return TransientError(detail, **kwargs)
    return PermanentError(detail, **kwargs)
