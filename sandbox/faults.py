"""Fault injection for the sandbox: what a matching report request gets instead of its answer.

A fault is a match (platform and/or account, after ``skip`` requests, ``count``
times) plus one of the effects in ``FAULT_KINDS``; ``FaultTable`` keeps them and
hands out the one a request meets. The effects are generic; what differs per
platform lives on the platform's fake (``sandbox/platforms/``, a ``PlatformApi``):

- ``fault_body(kind, fault, ctx) -> Response | None``: the platform's own answer
  for ``http_500``, ``rate_limited``, ``auth_expired`` and ``auth_revoked`` (Meta
  throttles with HTTP 400 code 80000, Google with 429 RESOURCE_EXHAUSTED and a
  retryDelay, others with HTTP 200 and an error code, ...). None gets ``generic_error_body``.
- ``record_access``: a ``RecordAccess``, where the report rows sit in a good answer
  and how to read and write their canonical metrics, for the ``bad_data`` variants.
  A platform without one answers ``bad_data`` unchanged.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

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
class Fault:
    fault_id: int
    kind: str
    platform: str | None
    account_id: str | None
    remaining: int | None
    skip: int = 0
    params: dict = field(default_factory=dict)

    def matches(self, platform: str, account_id: str | None) -> bool:
        if self.platform is not None and self.platform != platform:
            return False
        return self.account_id is None or self.account_id == account_id

    def as_dict(self) -> dict:
        return {
            "id": self.fault_id,
            "kind": self.kind,
            "platform": self.platform,
            "account_id": self.account_id,
            "count": self.remaining,
            "skip": self.skip,
            **self.params,
        }


class FaultTable:
    """The faults in force, in the order they were added; the first that matches a request answers it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_id = 1

    def add(
        self,
        kind: str,
        platform: str | None,
        account_id: str | None,
        count: int | None,
        skip: int,
        params: dict,
        platforms: list[str],
    ) -> dict:
        """Add one; ``platforms``: the ones that take faults (ValueError for another)."""
        validate_fault(kind, params)
        if platform is not None and platform not in platforms:
            raise ValueError(f"unknown platform {platform!r}; expected one of {platforms}")
        if count is not None and int(count) < 1:
            raise ValueError("count must be a positive integer or null")
        with self._lock:
            fault = Fault(
                fault_id=self._next_id,
                kind=kind,
                platform=platform,
                account_id=None if account_id is None else str(account_id),
                remaining=None if count is None else int(count),
                skip=int(skip),
                params=dict(params),
            )
            self._next_id += 1
            self._faults.append(fault)
            return fault.as_dict()

    def clear(self) -> int:
        with self._lock:
            cleared = len(self._faults)
            self._faults.clear()
            return cleared

    def listed(self) -> list[dict]:
        with self._lock:
            return [f.as_dict() for f in self._faults]

    def take(self, platform: str, account_id: str | None) -> Fault | None:
        """The fault a request to ``platform`` for ``account_id`` meets now (None: answer it for real)."""
        with self._lock:
            for fault in self._faults:
                if not fault.matches(platform, account_id):
                    continue
                if fault.skip > 0:
                    fault.skip -= 1
                    return None
                if fault.remaining is not None:
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._faults.remove(fault)
                return fault
        return None


@dataclass
class FaultContext:
    """The request a fault answers: its route, the request, the path match, the real handler and the
    platform's fake (``None`` where no fake of ``sandbox/platforms/`` serves the route)."""

    route: Any
    request: Any
    match: Any
    real: Callable[[], Any]
    api: Any = None

    @property
    def platform(self) -> str:
        return self.route.platform

    def group(self, index: int, default: str = "") -> str:
        try:
            return self.match.group(index) or default
        except IndexError:
            return default


@dataclass(frozen=True)
class RecordAccess:
    """Where a platform's report rows are, and their canonical metrics (major units, counts)."""

    rows: Callable[[Any], list[list[dict]]]  # the lists holding rows in a parsed body (mutated in place)
    get: Callable[[dict, str], float]
    set: Callable[[dict, str, float], None]
    day: Callable[[dict], str]


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
    response = ctx.api.fault_body(kind, fault, ctx) if ctx.api is not None else None
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
    access = ctx.api.record_access if ctx.api is not None else None
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
