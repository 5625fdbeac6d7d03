"""Fault injection for the sandbox: what a matching report request gets instead of its answer.

A fault is a match (platform and/or account, after ``skip`` requests, ``count``
times) plus one of the effects in ``FAULT_KINDS``. The effects are generic;
what differs per platform lives in two hooks:

- ``ERROR_BODIES[platform](kind, fault, ctx) -> Response | None``: the
  platform's own answer for ``http_500``, ``rate_limited``, ``auth_expired`` and
  ``auth_revoked`` (Meta throttles with HTTP 400 code 80000, TikTok with HTTP 200
  code 40100, Google with 429 RESOURCE_EXHAUSTED and a retryDelay, ...). A platform
  without an entry, or a hook returning None, gets ``generic_error_body``.
  Register one with ``register_error_bodies("tiktok", fn)``.
- ``RECORD_ACCESS[platform]``: where the report rows sit in a good answer and how
  to read and write their canonical metrics, for the ``bad_data`` variants. A
  platform without an entry answers ``bad_data`` unchanged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sandbox.platform_errors import META_EXPIRED_MESSAGE, google_error, google_unauthenticated, meta_error
from sandbox.wire import Response

FAULT_KINDS = {
    "garbage": "HTTP 200 with a body that is not the report (param variant: html | truncated | invalid_json)",
    "http_500": "a 5xx in the platform's error shape (param status: 500 | 502 | 503; use count for a burst)",
    "http_429": "a bare HTTP 429 (param retry_after: seconds for a Retry-After header; none when absent)",
    "rate_limited": "the platform's own throttling answer (params retry_after seconds, code for Meta: 4/17/80000...)",
    "slow": "the real answer after a delay (param seconds, default 5): past a short client timeout",
    "connection_reset": "headers and part of the real body, then the connection is closed (param fraction, default 0.5)",
    "auth_expired": "the platform's expired-token answer (Meta 190/463, Google 401, LinkedIn 65602)",
    "auth_revoked": "access revoked for good (Meta 190/458, Google 401 OAUTH_TOKEN_REVOKED, LinkedIn 65601)",
    "bad_data": (
        "the real answer with plausible-but-wrong rows (param variant: negative_spend | clicks_over_impressions | "
        "duplicate_rows | missing_day | spend_without_metrics | roas_outlier; rows: how many, default 1; "
        "day: YYYY-MM-DD, the day to drop (missing_day, default the middle day) or to corrupt (default the first rows))"
    ),
}
BAD_DATA_VARIANTS = (
    "negative_spend",
    "clicks_over_impressions",
    "duplicate_rows",
    "missing_day",
    "spend_without_metrics",
    "roas_outlier",
)


@dataclass
class FaultContext:
    """The request a fault answers: its route, the request, the path match and the real handler."""

    route: Any
    request: Any
    match: Any
    real: Callable[[], Any]

    @property
    def platform(self) -> str:
        return self.route.platform

    def group(self, index: int, default: str = "") -> str:
        try:
            return self.match.group(index) or default
        except IndexError:
            return default


ErrorBody = Callable[[str, Any, FaultContext], Any]
ERROR_BODIES: dict[str, ErrorBody] = {}


def register_error_bodies(platform: str, fn: ErrorBody) -> None:
    ERROR_BODIES[platform] = fn


@dataclass(frozen=True)
class RecordAccess:
    """Where a platform's report rows are, and their canonical metrics (major units, counts)."""

    rows: Callable[[Any], list[list[dict]]]  # the lists holding rows in a parsed body (mutated in place)
    get: Callable[[dict, str], float]
    set: Callable[[dict, str, float], None]
    day: Callable[[dict], str]


RECORD_ACCESS: dict[str, RecordAccess] = {}


# -- the effects ---------------------------------------------------------------


def fault_response(fault: Any, ctx: FaultContext) -> Any:

    kind = fault.kind
    params = fault.params
    if kind == "garbage":
        variant = params.get("variant", "html")
        if variant == "truncated":
            real = ctx.real()
            return Response(200, real.body[: max(1, len(real.body) // 2)], dict(real.headers))
        if variant == "invalid_json":
            return Response(200, b'{"data": [{"campaign_id": "1", "spend": 1.0,,}]', {"Content-Type": "application/json"})
        html = (
            b"<html><head><title>502 Bad Gateway</title></head>\r\n"
            b"<body><center><h1>502 Bad Gateway</h1></center>\r\n<hr><center>proxy</center>\r\n"
            b"</body></html>\r\n"
        )
        return Response(200, html, {"Content-Type": "text/html"})
    if kind == "slow":
        time.sleep(float(params.get("seconds", 5)))
        return ctx.real()
    if kind == "connection_reset":
        real = ctx.real()
        cut = int(len(real.body) * float(params.get("fraction", 0.5)))
        return Response(real.status, real.body, dict(real.headers), reset_after=max(0, min(cut, len(real.body) - 1)))
    if kind == "http_429":
        headers = {}
        if params.get("retry_after") is not None:
            headers["Retry-After"] = str(params["retry_after"])
        return Response.json(429, {"error": {"code": 429, "message": "Too Many Requests"}}, headers)
    if kind == "bad_data":
        return _bad_data(fault, ctx)
    hook = ERROR_BODIES.get(ctx.platform)
    response = hook(kind, fault, ctx) if hook is not None else None
    return response if response is not None else generic_error_body(kind, fault, ctx)


def generic_error_body(kind: str, fault: Any, ctx: FaultContext) -> Any:
    """A plain HTTP answer for platforms without their own error bodies."""

    if kind == "http_500":
        status = int(fault.params.get("status", 500))
        return Response.json(status, {"error": {"code": status, "message": "Internal error"}})
    if kind == "rate_limited":
        retry_after = fault.params.get("retry_after")
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        return Response.json(429, {"error": {"code": 429, "message": "Rate limit exceeded"}}, headers)
    if kind in ("auth_expired", "auth_revoked"):
        return Response.json(401, {"error": {"code": 401, "message": "Invalid or expired access token"}})
    raise AssertionError(f"fault kind {kind} has no response")


def _bad_data(fault: Any, ctx: FaultContext) -> Any:

    real = ctx.real()
    access = RECORD_ACCESS.get(ctx.platform)
    if access is None or real.status != 200:
        return real
    try:
        payload = json.loads(real.body)
    except ValueError:
        return real
    variant = fault.params.get("variant", "negative_spend")
    n = max(1, int(fault.params.get("rows", 1)))
    lists = access.rows(payload)
    rows = [r for rows in lists for r in rows]
    if variant == "missing_day":
        days = sorted({access.day(r) for r in rows})
        if days:
            drop = str(fault.params.get("day") or days[len(days) // 2])
            for rows_list in lists:
                rows_list[:] = [r for r in rows_list if access.day(r) != drop]
    elif variant == "duplicate_rows":
        for rows_list in lists:
            rows_list.extend(json.loads(json.dumps(r)) for r in rows_list[:n])
            break
    else:
        if fault.params.get("day"):
            rows = [r for r in rows if access.day(r) == str(fault.params["day"])]
        for row in rows[:n]:
            if variant == "negative_spend":
                access.set(row, "spend", -max(1.0, abs(access.get(row, "spend"))))
            elif variant == "clicks_over_impressions":
                access.set(row, "clicks", access.get(row, "impressions") * 3 + 10)
            elif variant == "spend_without_metrics":
                access.set(row, "spend", max(10.0, access.get(row, "spend")))
                access.set(row, "impressions", 0)
                access.set(row, "clicks", 0)
            elif variant == "roas_outlier":
                access.set(row, "conversion_value", max(1.0, access.get(row, "spend")) * 1000)
            else:
                raise ValueError(f"unknown bad_data variant {variant!r}; expected one of {BAD_DATA_VARIANTS}")
    body = json.dumps(payload, separators=(",", ":")).encode()
    return Response(200, body, {**real.headers, "Content-Type": "application/json; charset=UTF-8"})


def validate_fault(kind: str, params: dict) -> None:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {sorted(FAULT_KINDS)}")
    if kind == "bad_data" and params.get("variant", "negative_spend") not in BAD_DATA_VARIANTS:
        raise ValueError(f"unknown bad_data variant {params.get('variant')!r}; expected one of {BAD_DATA_VARIANTS}")
    if kind == "bad_data" and params.get("day") is not None:
        date.fromisoformat(str(params["day"]))


# -- Meta ----------------------------------------------------------------------


def _meta_error_bodies(kind: str, fault: Any, ctx: FaultContext) -> Any:

    if kind == "http_500":
        return meta_error(
            int(fault.params.get("status", 500)),
            2,
            "An unexpected error has occurred. Please retry your request later.",
            "OAuthException",
            is_transient=True,
        )
    if kind == "rate_limited":
        retry_after = int(fault.params.get("retry_after", 60))
        code = int(fault.params.get("code", 80000))
        minutes = max(0, -(-retry_after // 60))
        usage = {
            ctx.group(2): [
                {
                    "type": "ads_insights",
                    "call_count": 100,
                    "total_cputime": 12,
                    "total_time": 40,
                    "estimated_time_to_regain_access": minutes,
                }
            ]
        }
        message = (
            "(#80000) There have been too many calls from this ad-account. Wait a bit and try again. "
            "For more info, please refer to https://developers.facebook.com/docs/graph-api/overview/rate-limiting."
            if code >= 80000
            else f"(#{code}) User request limit reached"
        )
        return meta_error(
            400,
            code,
            message,
            "OAuthException",
            2446079 if code >= 80000 else None,
            headers={"X-Business-Use-Case-Usage": json.dumps(usage)},
        )
    if kind == "auth_expired":
        return meta_error(400, 190, META_EXPIRED_MESSAGE, "OAuthException", 463)
    if kind == "auth_revoked":
        return meta_error(
            400,
            190,
            "Error validating access token: The user has not authorized application 1234567890.",
            "OAuthException",
            458,
        )
    return None


def _meta_get(row: dict, metric: str) -> float:
    if metric == "conversion_value":
        values = [float(v["value"]) for v in row.get("action_values", []) if isinstance(v, dict)]
        return max(values) if values else 0.0
    return float(row.get(metric) or 0)


def _meta_set(row: dict, metric: str, value: float) -> None:
    if metric == "spend":
        row["spend"] = f"{value:.2f}"
    elif metric == "conversion_value":
        row["action_values"] = [
            {**v, "value": f"{value:.2f}"} for v in row.get("action_values", []) if isinstance(v, dict)
        ] or [{"action_type": "offsite_conversion.fb_pixel_purchase", "value": f"{value:.2f}"}]
    else:
        row[metric] = str(int(value))


register_error_bodies("meta", _meta_error_bodies)
RECORD_ACCESS["meta"] = RecordAccess(
    rows=lambda payload: [payload["data"]] if isinstance(payload, dict) and isinstance(payload.get("data"), list) else [],
    get=_meta_get,
    set=_meta_set,
    day=lambda row: row.get("date_start", ""),
)


# -- Google Ads ----------------------------------------------------------------


def _google_error_bodies(kind: str, fault: Any, ctx: FaultContext) -> Any:

    version = ctx.group(1, "v21")
    if kind == "http_500":
        status = int(fault.params.get("status", 500))
        return google_error(
            status,
            "INTERNAL" if status == 500 else "UNAVAILABLE",
            "Internal error encountered." if status == 500 else "The service is currently unavailable.",
            wrap=True,
            version=version,
            error_code={"internalError": "INTERNAL_ERROR" if status == 500 else "TRANSIENT_ERROR"},
        )
    if kind == "rate_limited":
        retry_after = int(fault.params.get("retry_after", 60))
        return google_error(
            429,
            "RESOURCE_EXHAUSTED",
            "Resource has been exhausted (e.g. check quota).",
            wrap=True,
            version=version,
            error_code={"quotaError": "RESOURCE_EXHAUSTED"},
            error_message=f"Too many requests. Retry in {retry_after} seconds.",
            error_details={
                "quotaErrorDetails": {
                    "rateScope": "DEVELOPER",
                    "rateName": "Number of operations for basic access",
                    "retryDelay": f"{retry_after}s",
                }
            },
        )
    if kind == "auth_expired":
        return google_unauthenticated()
    if kind == "auth_revoked":
        return google_error(
            401,
            "UNAUTHENTICATED",
            "Request had invalid authentication credentials.",
            version=version,
            error_code={"authenticationError": "OAUTH_TOKEN_REVOKED"},
            error_message="The OAuth access token has been revoked. Please re-authenticate.",
        )
    return None


_GOOGLE_METRICS = {"spend": "costMicros", "impressions": "impressions", "clicks": "clicks", "conversion_value": "conversionsValue"}


def _google_get(row: dict, metric: str) -> float:
    value = float((row.get("metrics") or {}).get(_GOOGLE_METRICS[metric]) or 0)
    return value / 1_000_000 if metric == "spend" else value


def _google_set(row: dict, metric: str, value: float) -> None:
    metrics = row.setdefault("metrics", {})
    key = _GOOGLE_METRICS[metric]
    if metric == "spend":
        metrics[key] = str(round(value * 1_000_000))
    elif metric == "conversion_value":
        metrics[key] = float(value)
    elif value:
        metrics[key] = str(int(value))
    else:
        metrics.pop(key, None)  # proto3 JSON leaves out zeros


register_error_bodies("google_ads", _google_error_bodies)
RECORD_ACCESS["google_ads"] = RecordAccess(
    rows=lambda payload: [b["results"] for b in payload if isinstance(b, dict) and isinstance(b.get("results"), list)]
    if isinstance(payload, list)
    else [],
    get=_google_get,
    set=_google_set,
    day=lambda row: (row.get("segments") or {}).get("date", ""),
)


# -- hooks for the platforms described in the platform notes ---------------------------------


def _tiktok_error_bodies(kind: str, fault: Any, ctx: FaultContext) -> Any:
    """TikTok answers errors with HTTP 200 and a non-zero ``code``."""

    codes = {
        "rate_limited": (40100, "Requests made too frequently. Please try again later."),
        "http_500": (50000, "System error. Please try again later."),
        "auth_expired": (40105, "Access token is invalid or has expired."),
        "auth_revoked": (40001, "No permission to operate this advertiser: authorization revoked."),
    }
    if kind not in codes:
        return None
    code, message = codes[kind]
    return Response.json(200, {"code": code, "message": message, "request_id": "sandbox-fault", "data": {}})


def _linkedin_error_bodies(kind: str, fault: Any, ctx: FaultContext) -> Any:

    if kind == "auth_expired":
        return Response.json(
            401, {"status": 401, "serviceErrorCode": 65602, "code": "EXPIRED_ACCESS_TOKEN", "message": "The token used in the request has expired"}
        )
    if kind == "auth_revoked":
        return Response.json(
            401, {"status": 401, "serviceErrorCode": 65601, "code": "REVOKED_ACCESS_TOKEN", "message": "The token used in the request has been revoked by the user"}
        )
    if kind == "rate_limited":
        return Response.json(429, {"status": 429, "serviceErrorCode": 101, "code": "TOO_MANY_REQUESTS", "message": "Resource level throttle limit reached"})
    return None


def _snapchat_error_bodies(kind: str, fault: Any, ctx: FaultContext) -> Any:

    if kind == "rate_limited":
        return Response.json(429, {"request_status": "ERROR", "request_id": "sandbox-fault", "msg": "Rate limit exceeded"})
    if kind in ("auth_expired", "auth_revoked"):
        return Response.json(401, {"request_status": "ERROR", "request_id": "sandbox-fault", "msg": "Unauthorized"})
    return None


register_error_bodies("tiktok", _tiktok_error_bodies)
register_error_bodies("linkedin", _linkedin_error_bodies)
register_error_bodies("snapchat", _snapchat_error_bodies)
