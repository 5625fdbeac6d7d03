"""Local HTTP servers that speak the Meta Insights and Google Ads wire formats.

One port, one path prefix per platform, so a client's base URL is
``http://127.0.0.1:PORT/meta`` or ``http://127.0.0.1:PORT/google_ads`` and the
rest of the path is the real API's:

- ``GET  /meta/v{ver}/act_{account_id}/insights``
- ``POST /google_ads/v{N}/customers/{customer_id}/googleAds:searchStream``
- ``POST /google_ads/oauth2/token`` (stands in for https://oauth2.googleapis.com/token)

Admin endpoints (JSON) under ``/_sandbox/``:

- ``GET|POST /_sandbox/clock`` ``{"today": "YYYY-MM-DD"}``: the sandbox's today,
  which sets restatement (``as_of``) and which days exist (days before today).
- ``GET|POST|DELETE /_sandbox/faults``: the fault table. POST
  ``{"platform", "account_id", "kind", "count", "skip", ...params}``; ``platform``
  or ``account_id`` null matches any, ``count`` null means always, ``skip`` lets
  that many matching requests through first. Kinds are listed in ``FAULT_KINDS``
  (``sandbox/faults.py``: the effects, and the per-platform error bodies). Faults
  apply to report endpoints only (not to the token endpoint) and are checked in
  one place before dispatch.
- ``POST /_sandbox/tokens/expire``: every issued Google access token stops working.
- ``GET|DELETE /_sandbox/stats``: request counters per platform.

Latency and rate limits (constructor, or ``python -m sandbox serve``): every
report request waits ``latency`` seconds before it is answered, and a platform
answers more than ``rate_limit`` report requests within any ``rate_window``
seconds with its own throttling answer, counted in the stats as
``rate_limit_violations``.
"""

from __future__ import annotations

import base64
import json
import re
import secrets
import socket
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import monotonic, sleep
from typing import Self
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

from sandbox.platform_errors import META_EXPIRED_MESSAGE, google_error, google_unauthenticated, meta_error, trace_id
from sandbox.platforms import generate_platform_credentials
from sandbox.wire import Request, Response, Route
from sandbox.world import World

META_DEFAULT_FIELDS = (
    "campaign_id,campaign_name,spend,impressions,clicks,reach,actions,action_values,account_currency,date_start,date_stop"
)
META_KNOWN_FIELDS = {
    "account_id",
    "account_name",
    "account_currency",
    "campaign_id",
    "campaign_name",
    "spend",
    "impressions",
    "clicks",
    "reach",
    "frequency",
    "actions",
    "action_values",
    "date_start",
    "date_stop",
    "adset_id",
    "adset_name",
    "ad_id",
    "ad_name",
}
# Insights levels -> the sandbox world's grain. Ids of a finer level than the one asked
# for (ad_id at level=adset) are left out of the rows, as Meta does.
META_LEVELS = {"campaign": "campaign", "adset": "ad_group", "ad": "ad"}
# action_attribution_windows Meta accepts; each action then carries its value under each window asked for.
META_ATTRIBUTION_WINDOWS = ("1d_view", "7d_view", "28d_view", "1d_click", "7d_click", "28d_click", "1d_ev")
META_CLICK_SHARE = 0.85  # of a purchase's value under 7d_click + 1d_view, the click-through part
META_FINER_FIELDS = {
    "campaign": {"adset_id", "adset_name", "ad_id", "ad_name"},
    "adset": {"ad_id", "ad_name"},
    "ad": set(),
}
META_PURCHASE_TYPES = (
    "offsite_conversion.fb_pixel_purchase",
    "omni_purchase",
    "purchase",
)
META_ADD_TO_CART_TYPES = (
    "add_to_cart",
    "offsite_conversion.fb_pixel_add_to_cart",
    "omni_add_to_cart",
)

GOOGLE_FIELDS = {
    "campaign.id",
    "campaign.name",
    "campaign.status",
    "customer.id",
    "customer.currency_code",
    "customer.time_zone",
    "segments.date",
    "metrics.cost_micros",
    "metrics.impressions",
    "metrics.clicks",
    "metrics.conversions",
    "metrics.conversions_value",
}
# FROM ad_group may also select the ad group's own fields; FROM campaign may not.
GOOGLE_AD_GROUP_FIELDS = {"ad_group.id", "ad_group.name", "ad_group.status"}
GOOGLE_RESOURCES = {"campaign": "campaign", "ad_group": "ad_group"}  # FROM resource -> world grain

from sandbox.faults import FAULT_KINDS, FaultContext, fault_response, validate_fault  # noqa: E402


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


class SandboxServer:
    """The demo world behind real-looking Meta and Google Ads endpoints.

    ``credentials``: ``{"meta": {"access_token"}, "google_ads": {"developer_token",
    "client_id", "client_secret", "refresh_token"}}``; random ones when None (see
    ``.credentials``). ``today``: the sandbox clock, default ``world.end_date + 1``.
    ``stores``: the store orders (``sandbox.stores.StoreWorld``; default the demo stores over ``world``).
    """

    def __init__(
        self,
        world: World,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: dict | None = None,
        today: date | None = None,
        google_batch_size: int = 10000,
        token_ttl: float = 3599.0,
        latency: float = 0.0,
        rate_limit: int | None = None,
        rate_window: float = 1.0,
        stores=None,
        page_cache: int = 64,
    ) -> None:
        self.world = world
        self.host = host
        self.port = port
        self.credentials = credentials or generate_credentials()
        self.google_batch_size = google_batch_size
        self.token_ttl = token_ttl
        self.latency = float(latency)  # seconds added to every report request
        self.rate_limit = rate_limit  # report requests per platform within any rate_window seconds
        self.rate_window = float(rate_window)
        self._recent: dict[str, deque] = {}
        self._today = today or world.default_as_of
        self._lock = threading.Lock()
        self._faults: list[Fault] = []
        self._next_fault_id = 1
        self._stats: dict = {}
        self._in_flight: dict[str, int] = {}
        self._tokens: dict[str, float] = {}
        self._pages: dict[tuple, list[dict]] = {}  # the rows paged through (see _paged_rows)
        self._page_cache = page_cache  # queries kept in _pages
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._routes = [
            Route(
                "GET",
                re.compile(r"^/meta/v(\d+\.\d+)/act_([^/]+)/insights/?$"),
                "meta",
                "insights",
                self._meta_insights,
                True,
            ),
            Route(
                "POST",
                re.compile(r"^/google_ads/oauth2/token$"),
                "google_ads",
                "token",
                self._google_token,
            ),
            Route(
                "POST",
                re.compile(r"^/google_ads/(v\d+)/customers/([^/]+)/googleAds:searchStream$"),
                "google_ads",
                "searchStream",
                self._google_search_stream,
                True,
            ),
            Route(
                "GET",
                re.compile(r"^/_sandbox/clock$"),
                "_sandbox",
                "clock",
                self._admin_get_clock,
            ),
            Route(
                "POST",
                re.compile(r"^/_sandbox/clock$"),
                "_sandbox",
                "clock",
                self._admin_set_clock,
            ),
            Route(
                "GET",
                re.compile(r"^/_sandbox/faults$"),
                "_sandbox",
                "faults",
                self._admin_list_faults,
            ),
            Route(
                "POST",
                re.compile(r"^/_sandbox/faults$"),
                "_sandbox",
                "faults",
                self._admin_add_fault,
            ),
            Route(
                "DELETE",
                re.compile(r"^/_sandbox/faults$"),
                "_sandbox",
                "faults",
                self._admin_clear_faults,
            ),
            Route(
                "GET",
                re.compile(r"^/_sandbox/stats$"),
                "_sandbox",
                "stats",
                self._admin_stats,
            ),
            Route(
                "DELETE",
                re.compile(r"^/_sandbox/stats$"),
                "_sandbox",
                "stats",
                self._admin_reset_stats,
            ),
            Route(
                "POST",
                re.compile(r"^/_sandbox/tokens/expire$"),
                "_sandbox",
                "tokens",
                self._admin_expire_tokens,
            ),
        ]
        # TikTok, Snapchat, LinkedIn, Amazon Ads and the stores: sandbox/platforms/ (state per platform).
        from sandbox.platforms import platform_apis
        from sandbox.stores import StoreWorld

        self.stores = stores if stores is not None else StoreWorld(world)

        for name, platform_credentials in generate_platform_credentials().items():
            self.credentials.setdefault(name, platform_credentials)
        self._platform_apis = platform_apis(self)
        for api in self._platform_apis.values():
            self._routes.extend(api.routes())

    def platform_api(self, platform: str):
        """The state of one platform served from sandbox/platforms/ (scripts, tokens, counters)."""
        return self._platform_apis[platform]

    def platform_url(self, platform: str) -> str:
        """The base URL a Connection's host points at, e.g. ``http://127.0.0.1:PORT/tiktok``."""
        return f"{self.url}/{platform}"

    # -- lifecycle ----------------------------------------------------------

    def start(self) -> SandboxServer:
        if self._httpd is not None:
            return self
        httpd = _HTTPServer((self.host, self.port), _Handler)
        httpd.sandbox = self
        self._httpd = httpd
        self.port = httpd.server_address[1]
        self._thread = threading.Thread(
            target=httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="sandbox-http",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        httpd.shutdown()
        httpd.close_connections()
        httpd.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def meta_url(self) -> str:
        return f"{self.url}/meta"

    @property
    def google_ads_url(self) -> str:
        return f"{self.url}/google_ads"

    @property
    def google_token_url(self) -> str:
        return f"{self.url}/google_ads/oauth2/token"

    # -- state (also reachable over /_sandbox/) -------------------------------

    @property
    def today(self) -> date:
        with self._lock:
            return self._today

    def set_today(self, today: date) -> None:
        with self._lock:
            self._today = today

    def add_fault(
        self,
        kind: str,
        platform: str | None = None,
        account_id: str | None = None,
        count: int | None = None,
        skip: int = 0,
        **params: object,
    ) -> dict:
        """Answer matching report requests with ``kind`` (after letting ``skip`` through)."""
        validate_fault(kind, params)
        known = sorted({r.platform for r in self._routes if r.faultable})
        if platform is not None and platform not in known:
            raise ValueError(f"unknown platform {platform!r}; expected one of {known}")
        if count is not None and int(count) < 1:
            raise ValueError("count must be a positive integer or null")
        with self._lock:
            fault = Fault(
                fault_id=self._next_fault_id,
                kind=kind,
                platform=platform,
                account_id=None if account_id is None else str(account_id),
                remaining=None if count is None else int(count),
                skip=int(skip),
                params=dict(params),
            )
            self._next_fault_id += 1
            self._faults.append(fault)
            return fault.as_dict()

    def clear_faults(self) -> int:
        with self._lock:
            cleared = len(self._faults)
            self._faults.clear()
            return cleared

    def faults(self) -> list[dict]:
        with self._lock:
            return [f.as_dict() for f in self._faults]

    def stats(self) -> dict:
        with self._lock:
            return json.loads(json.dumps(self._stats))

    def reset_stats(self) -> None:
        with self._lock:
            self._stats = {}

    def expire_tokens(self) -> int:
        with self._lock:
            count = len(self._tokens)
            self._tokens.clear()
            return count

    def _take_fault(self, platform: str, account_id: str | None) -> Fault | None:
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

    def _count(self, platform: str, endpoint: str, status: int, fault: str | None) -> None:
        with self._lock:
            entry = self._stats.setdefault(platform, {"requests": 0, "endpoints": {}, "status": {}, "faults": {}})
            entry["requests"] += 1
            entry["endpoints"][endpoint] = entry["endpoints"].get(endpoint, 0) + 1
            entry["status"][str(status)] = entry["status"].get(str(status), 0) + 1
            if fault:
                entry["faults"][fault] = entry["faults"].get(fault, 0) + 1

    # -- dispatch -----------------------------------------------------------

    def handle(self, request: Request) -> Response:
        """Route one request: admin, fault table, then the platform handler."""
        path_matched = None
        for route in self._routes:
            match = route.pattern.match(request.path)
            if not match:
                continue
            path_matched = route
            if route.method != request.method:
                continue
            fault_kind = None
            self._enter(route.platform)
            try:
                over_limit = route.faultable and not self._within_rate_limit(route.platform)  # counted on arrival
                if route.faultable and self.latency > 0:
                    sleep(self.latency)
                if over_limit:
                    fault_kind = "rate_limit_violation"
                    fault = Fault(0, "rate_limited", route.platform, None, None, params={"retry_after": max(1, round(self.rate_window))})
                    response = self._fault_response(route, fault, request, match)
                elif route.faultable:
                    if route.account_group:
                        account_id = match.group(route.account_group)
                    else:
                        account_id = request.headers.get(route.account_header) if route.account_header else None
                    fault = self._take_fault(route.platform, account_id)
                    if fault is not None:
                        fault_kind = fault.kind
                        response = self._fault_response(route, fault, request, match)
                    else:
                        response = route.handler(request, *match.groups())
                else:
                    response = route.handler(request, *match.groups())
            finally:
                self._leave(route.platform)
            if route.platform != "_sandbox":
                self._count(route.platform, route.endpoint, response.status, fault_kind)
            return response
        platform = request.path.strip("/").split("/", 1)[0]
        if path_matched is not None:
            return self._not_found(platform, request, status=405)
        return self._not_found(platform, request)

    def _within_rate_limit(self, platform: str) -> bool:
        """Count a report request against the platform's limit; False (and a violation counted) when over it."""
        if not self.rate_limit:
            return True
        with self._lock:
            now = monotonic()
            recent = self._recent.setdefault(platform, deque())
            while recent and recent[0] <= now - self.rate_window:
                recent.popleft()
            if len(recent) >= self.rate_limit:
                entry = self._stats.setdefault(platform, {"requests": 0, "endpoints": {}, "status": {}, "faults": {}})
                entry["rate_limit_violations"] = entry.get("rate_limit_violations", 0) + 1
                return False
            recent.append(now)
            return True

    def _enter(self, platform: str) -> None:
        """Count requests in flight per platform (``max_in_flight`` in the stats)."""
        if platform == "_sandbox":
            return
        with self._lock:
            now = self._in_flight[platform] = self._in_flight.get(platform, 0) + 1
            entry = self._stats.setdefault(platform, {"requests": 0, "endpoints": {}, "status": {}, "faults": {}})
            entry["max_in_flight"] = max(entry.get("max_in_flight", 0), now)

    def _leave(self, platform: str) -> None:
        if platform == "_sandbox":
            return
        with self._lock:
            self._in_flight[platform] -= 1

    def _not_found(self, platform: str, request: Request, status: int = 404) -> Response:
        if platform == "meta":
            return meta_error(
                400,
                100,
                "Unknown path components: " + request.path,
                "OAuthException",
                2500,
            )
        if platform == "google_ads":
            return google_error(
                404 if status == 404 else 405,
                "NOT_FOUND" if status == 404 else "METHOD_NOT_ALLOWED",
                f"{request.method} {request.path} is not a known method.",
            )
        return Response.json(status, {"error": f"no route for {request.method} {request.path}"})

    # -- faults -------------------------------------------------------------

    def _fault_response(self, route: Route, fault: Fault, request: Request, match: re.Match) -> Response:
        ctx = FaultContext(route, request, match, lambda: route.handler(request, *match.groups()))
        return fault_response(fault, ctx)

    # -- admin --------------------------------------------------------------

    def _admin_get_clock(self, request: Request) -> Response:
        today = self.today
        return Response.json(
            200,
            {
                "today": today.isoformat(),
                "latest_available_day": (today - timedelta(days=1)).isoformat(),
            },
        )

    def _admin_set_clock(self, request: Request) -> Response:
        try:
            payload = json.loads(request.body or b"{}")
            self.set_today(date.fromisoformat(payload["today"]))
        except (ValueError, KeyError, TypeError) as exc:
            return Response.json(400, {"error": f'expected {{"today": "YYYY-MM-DD"}}: {exc}'})
        return self._admin_get_clock(request)

    def _admin_list_faults(self, request: Request) -> Response:
        return Response.json(200, {"faults": self.faults(), "kinds": FAULT_KINDS})

    def _admin_add_fault(self, request: Request) -> Response:
        try:
            payload = json.loads(request.body or b"{}")
            if not isinstance(payload, dict):
                raise TypeError("body must be a JSON object")
            params = {k: v for k, v in payload.items() if k not in ("kind", "platform", "account_id", "count", "skip")}
            fault = self.add_fault(
                payload["kind"],
                platform=payload.get("platform"),
                account_id=payload.get("account_id"),
                count=payload.get("count"),
                skip=payload.get("skip") or 0,
                **params,
            )
        except (ValueError, KeyError, TypeError) as exc:
            return Response.json(400, {"error": str(exc)})
        return Response.json(201, fault)

    def _admin_clear_faults(self, request: Request) -> Response:
        return Response.json(200, {"cleared": self.clear_faults()})

    def _admin_stats(self, request: Request) -> Response:
        return Response.json(200, self.stats())

    def _admin_reset_stats(self, request: Request) -> Response:
        self.reset_stats()
        return Response.json(200, {})

    def _admin_expire_tokens(self, request: Request) -> Response:
        return Response.json(200, {"expired": self.expire_tokens()})

    # -- Meta ---------------------------------------------------------------

    def _paged_rows(self, platform: str, account_id: str, since: date, until: date, as_of: date, level: str = "campaign") -> list[dict]:
        """``world.truth_rows``, kept for the next pages of the same query (the world is deterministic).

        Computing an account's window takes the sandbox ~0.1 s of CPU; paging through it would
        repeat that per page, a cost of the fake that real APIs do not add to the client's time.
        The last ``page_cache`` queries are kept (64 unless the constructor says otherwise).
        """
        key = (platform, account_id, since, until, as_of, level)
        with self._lock:
            rows = self._pages.get(key)
        if rows is None:
            rows = self.world.truth_rows(platform, account_id, since, until, as_of=as_of, level=level)
            with self._lock:
                while self._pages and len(self._pages) >= self._page_cache:
                    self._pages.pop(next(iter(self._pages)))
                self._pages[key] = rows
        return rows

    def prepare_pages(self, platform: str, account_id: str, since: date, until: date, levels: tuple[str, ...] = ("campaign",)) -> int:
        """Compute a query's rows ahead of its first page (as of today); returns how many rows.

        A benchmark does this before its clock starts, so the time the fake spends generating
        a world is not counted as the platform's latency (a real API answers in ``latency``).
        """
        return sum(len(self._paged_rows(platform, account_id, since, until, self.today, level)) for level in levels)

    def _meta_insights(self, request: Request, version: str, account_id: str) -> Response:
        token = request.query.get("access_token") or _bearer(request.headers)
        if not token or not secrets.compare_digest(token, self.credentials["meta"]["access_token"]):
            return meta_error(400, 190, META_EXPIRED_MESSAGE, "OAuthException", 463)
        if not self.world.has_account("meta", account_id):
            return meta_error(
                400,
                100,
                f"Unsupported get request. Object with ID 'act_{account_id}' does not exist, cannot be loaded due to "
                "missing permissions, or does not support this operation. Please read the Graph API documentation at "
                "https://developers.facebook.com/docs/graph-api",
                "GraphMethodException",
                33,
            )
        query = request.query
        level = query.get("level", "campaign")
        if level not in META_LEVELS:
            return meta_error(
                400,
                100,
                f"(#100) level must be one of the following values: account, campaign, adset, ad (sandbox: {', '.join(META_LEVELS)})",
                "OAuthException",
            )
        if query.get("time_increment", "1") != "1":
            return meta_error(
                400,
                100,
                "(#100) this sandbox serves time_increment=1 only",
                "OAuthException",
            )
        today = self.today
        try:
            if "time_range" in query:
                time_range = json.loads(query["time_range"])
                since = date.fromisoformat(time_range["since"])
                until = date.fromisoformat(time_range["until"])
            else:
                since, until = today - timedelta(days=30), today - timedelta(days=1)
        except (ValueError, KeyError, TypeError):
            return meta_error(
                400,
                100,
                "(#100) Param time_range must be a JSON object with since and until dates",
                "OAuthException",
            )
        if since > until:
            return meta_error(
                400,
                100,
                "(#100) time_range: since must not be after until",
                "OAuthException",
            )
        fields = [f for f in query.get("fields", META_DEFAULT_FIELDS).split(",") if f]
        unknown = [f for f in fields if f not in META_KNOWN_FIELDS]
        if unknown:
            return meta_error(
                400,
                100,
                f"(#100) {unknown[0]} is not valid for fields param.",
                "OAuthException",
            )
        windows: list[str] = []
        if "action_attribution_windows" in query:
            try:
                windows = json.loads(query["action_attribution_windows"])
                if not isinstance(windows, list) or not windows or not all(isinstance(w, str) for w in windows):
                    raise ValueError
            except ValueError:
                return meta_error(400, 100, "(#100) action_attribution_windows must be a JSON array of windows", "OAuthException")
            bad = [w for w in windows if w not in META_ATTRIBUTION_WINDOWS]
            if bad:
                return meta_error(
                    400,
                    100,
                    f"(#100) action_attribution_windows[0] must be one of the following values: {', '.join(META_ATTRIBUTION_WINDOWS)}",
                    "OAuthException",
                )
        try:
            limit = int(query.get("limit", "25"))
            offset = _decode_cursor(query["after"]) + 1 if "after" in query else 0
            if limit < 1 or offset < 0:
                raise ValueError
        except ValueError:
            return meta_error(400, 100, "(#100) Invalid limit or cursor", "OAuthException")

        account = self.world.account("meta", account_id)
        rows = self._paged_rows("meta", account.account_id, since, until, today, META_LEVELS[level])
        page = rows[offset : offset + limit]
        fields = [f for f in fields if f not in META_FINER_FIELDS[level]]
        payload: dict = {"data": [_meta_record(account, row, fields, windows) for row in page]}
        if page:
            first, last = offset, offset + len(page) - 1
            paging: dict = {
                "cursors": {
                    "before": _encode_cursor(first),
                    "after": _encode_cursor(last),
                }
            }
            base_params = {k: v for k, v in query.items() if k not in ("after", "before")}
            # The real API puts the access token into paging URLs, whichever way it came.
            base_params.setdefault("access_token", token)
            page_url = f"http://{request.host}{quote(request.path)}?"
            if last + 1 < len(rows):
                paging["next"] = page_url + urlencode({**base_params, "after": _encode_cursor(last)})
            if offset > 0:
                paging["previous"] = page_url + urlencode({**base_params, "before": _encode_cursor(first)})
            payload["paging"] = paging
        headers = {
            "x-fb-ads-insights-throttle": json.dumps(
                {
                    "app_id_util_pct": 0.5,
                    "acc_id_util_pct": 1.2,
                    "ads_api_access_tier": "standard_access",
                }
            ),
            "x-fb-trace-id": trace_id(),
        }
        return Response.json(200, payload, headers)

    # -- Google Ads ---------------------------------------------------------

    def _google_token(self, request: Request) -> Response:
        form = {k: v[-1] for k, v in parse_qs(request.body.decode("utf-8", "replace")).items()}
        expected = self.credentials["google_ads"]
        if form.get("grant_type") != "refresh_token":
            return Response.json(
                400,
                {
                    "error": "unsupported_grant_type",
                    "error_description": "Invalid grant_type: " + form.get("grant_type", ""),
                },
            )
        if form.get("client_id") != expected["client_id"] or not secrets.compare_digest(
            form.get("client_secret", ""), expected["client_secret"]
        ):
            return Response.json(
                401,
                {
                    "error": "invalid_client",
                    "error_description": "The OAuth client was not found.",
                },
            )
        if not secrets.compare_digest(form.get("refresh_token", ""), expected["refresh_token"]):
            return Response.json(
                400,
                {
                    "error": "invalid_grant",
                    "error_description": "Token has been expired or revoked.",
                },
            )
        token = "ya29.sandbox-" + secrets.token_urlsafe(32)
        with self._lock:
            self._tokens[token] = monotonic() + self.token_ttl
        return Response.json(
            200,
            {
                "access_token": token,
                "expires_in": int(self.token_ttl),
                "scope": "https://www.googleapis.com/auth/adwords",
                "token_type": "Bearer",
            },
        )

    def _google_token_valid(self, token: str | None) -> bool:
        if not token:
            return False
        with self._lock:
            expiry = self._tokens.get(token)
            return expiry is not None and expiry > monotonic()

    def _google_search_stream(self, request: Request, version: str, customer_id: str) -> Response:
        if not self._google_token_valid(_bearer(request.headers)):
            return google_unauthenticated()
        developer_token = request.headers.get("developer-token", "")
        if not secrets.compare_digest(developer_token, self.credentials["google_ads"]["developer_token"]):
            return google_error(
                403,
                "PERMISSION_DENIED",
                "The caller does not have permission",
                version=version,
                error_code={"authorizationError": "DEVELOPER_TOKEN_NOT_APPROVED"},
                error_message="The developer token is not approved for use with this customer.",
            )
        login_customer_id = request.headers.get("login-customer-id")
        if login_customer_id is not None and not login_customer_id.isdigit():
            return google_error(
                400,
                "INVALID_ARGUMENT",
                "Request contains an invalid argument.",
                wrap=True,
                version=version,
                error_code={"requestError": "INVALID_CUSTOMER_ID"},
                error_message="Invalid login-customer-id header: digits only, no dashes.",
            )
        if not customer_id.isdigit() or not self.world.has_account("google_ads", customer_id):
            return google_error(
                403,
                "PERMISSION_DENIED",
                "The caller does not have permission",
                wrap=True,
                version=version,
                error_code={"authorizationError": "USER_PERMISSION_DENIED"},
                error_message="User doesn't have permission to access customer. Note: If you're accessing a client "
                "customer, the manager's customer id must be set in the 'login-customer-id' header.",
            )
        try:
            payload = json.loads(request.body or b"")
            query = payload["query"]
            if not isinstance(query, str):
                raise TypeError("query must be a string")
        except (ValueError, KeyError, TypeError):
            return google_error(
                400,
                "INVALID_ARGUMENT",
                'Invalid JSON payload received. Expected {"query": ...}.',
                wrap=True,
                version=version,
            )
        try:
            selected, since, until, resource = _parse_gaql(query)
        except _GaqlError as exc:
            return google_error(
                400,
                "INVALID_ARGUMENT",
                "Request contains an invalid argument.",
                wrap=True,
                version=version,
                error_code={"queryError": exc.code},
                error_message=str(exc),
            )
        account = self.world.account("google_ads", customer_id)
        rows = self.world.truth_rows("google_ads", account.account_id, since, until, as_of=self.today, level=GOOGLE_RESOURCES[resource])
        results = [_google_result(account, row, selected) for row in rows]
        results = [r for r in results if r]
        field_mask = ",".join(_camel_path(f) for f in selected)
        request_id = uuid.uuid4().hex[:22]
        size = max(1, int(self.google_batch_size))
        batches = []
        for start in range(0, len(results), size):
            batches.append(
                {
                    "results": results[start : start + size],
                    "fieldMask": field_mask,
                    "requestId": request_id,
                }
            )
        if not batches:
            batches.append({"fieldMask": field_mask, "requestId": request_id})
        return Response.json(200, batches, {"request-id": request_id})


# -- wire helpers ------------------------------------------------------------

def _bearer(headers: dict[str, str]) -> str | None:
    value = headers.get("authorization", "")
    if value[:7].lower() == "bearer ":
        return value[7:].strip()
    return None


def _encode_cursor(index: int) -> str:
    return base64.b64encode(str(index).encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        return int(base64.b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
    except Exception as exc:
        raise ValueError(f"bad cursor {cursor!r}") from exc


def _meta_money(value: float) -> str:
    return f"{value:.2f}"


def _meta_actions(row: dict) -> tuple[list[dict], list[dict]]:
    """Derived actions: a few funnel steps plus the purchase under three equal types."""
    clicks = row["clicks"]
    purchases = row["conversions"]
    link_clicks = int(clicks * 0.87)
    landing_page_views = int(link_clicks * 0.78)
    add_to_cart = round(purchases * 3.1)
    cart_value = row["conversion_value"] * 2.4
    actions: list[dict] = []
    values: list[dict] = []
    for action_type, value in (
        ("landing_page_view", landing_page_views),
        ("link_click", link_clicks),
    ):
        if value:
            actions.append({"action_type": action_type, "value": str(value)})
    if add_to_cart:
        for action_type in META_ADD_TO_CART_TYPES:
            actions.append({"action_type": action_type, "value": str(add_to_cart)})
            values.append({"action_type": action_type, "value": _meta_money(cart_value)})
    if purchases:
        for action_type in META_PURCHASE_TYPES:
            actions.append({"action_type": action_type, "value": str(purchases)})
            values.append(
                {
                    "action_type": action_type,
                    "value": _meta_money(row["conversion_value"]),
                }
            )
    return actions, values


def _meta_by_window(entries: list[dict], windows: list[str], money: bool) -> list[dict]:
    """Each action's value under each window asked for (the world's conversions are 7d_click + 1d_view:
    a click-through share and a view-through rest; other windows get the click-through part)."""
    out = []
    for entry in entries:
        total = float(entry["value"])
        click = round(total * META_CLICK_SHARE, 2) if money else round(total * META_CLICK_SHARE)
        parts = {w: (total - click if w == "1d_view" else click) for w in windows}
        out.append({**entry, **{w: (_meta_money(v) if money else str(int(v))) for w, v in parts.items()}})
    return out


def _meta_record(account, row: dict, fields: list[str], windows: list[str] | None = None) -> dict:
    day = row["date"].isoformat()
    actions, values = _meta_actions(row)
    if windows:
        actions, values = _meta_by_window(actions, windows, money=False), _meta_by_window(values, windows, money=True)
    available = {
        "account_id": account.account_id,
        "account_name": account.name,
        "account_currency": account.currency,
        "campaign_id": row["campaign_id"],
        "campaign_name": row["campaign_name"],
        "spend": _meta_money(row["spend"]),
        "impressions": str(row["impressions"]),
        "clicks": str(row["clicks"]),
        "reach": str(row["reach"]),
        "frequency": f"{row['impressions'] / row['reach']:.6f}" if row["reach"] else "0",
        "actions": actions,
        "action_values": values,
        "adset_id": row.get("ad_group_id"),
        "adset_name": row.get("ad_group_name"),
        "ad_id": row.get("ad_id"),
        "ad_name": row.get("ad_name"),
    }
    record = {}
    for name in fields:
        if name in ("date_start", "date_stop"):
            continue
        value = available[name]
        if isinstance(value, list) and not value:
            continue  # Meta leaves out action lists with nothing in them
        record[name] = value
    record["date_start"] = day
    record["date_stop"] = day
    return record


class _GaqlError(ValueError):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


_GAQL_SELECT = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<resource>\w+)\b(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_GAQL_BETWEEN = re.compile(
    r"segments\.date\s+BETWEEN\s+['\"](\d{4}-\d{2}-\d{2})['\"]\s+AND\s+['\"](\d{4}-\d{2}-\d{2})['\"]",
    re.IGNORECASE,
)
_GAQL_GE = re.compile(r"segments\.date\s*>=\s*['\"](\d{4}-\d{2}-\d{2})['\"]", re.IGNORECASE)
_GAQL_LE = re.compile(r"segments\.date\s*<=\s*['\"](\d{4}-\d{2}-\d{2})['\"]", re.IGNORECASE)


def _parse_gaql(query: str) -> tuple[list[str], date, date, str]:
    """(selected fields, since, until, resource) of a GAQL query the sandbox serves."""
    match = _GAQL_SELECT.match(query)
    if not match:
        raise _GaqlError("INVALID_QUERY", "Error in query: expected SELECT <fields> FROM <resource>.")
    resource = match.group("resource").lower()
    if resource not in GOOGLE_RESOURCES:
        raise _GaqlError(
            "BAD_RESOURCE_TYPE_IN_FROM_CLAUSE",
            f"Error in query: this sandbox serves FROM {' or FROM '.join(GOOGLE_RESOURCES)}, not {match.group('resource')}.",
        )
    allowed = GOOGLE_FIELDS | (GOOGLE_AD_GROUP_FIELDS if resource == "ad_group" else set())
    selected = [f.strip() for f in match.group("fields").split(",") if f.strip()]
    for name in selected:
        if name in GOOGLE_AD_GROUP_FIELDS and name not in allowed:
            raise _GaqlError(
                "PROHIBITED_RESOURCE_TYPE_IN_SELECT_CLAUSE",
                f"Error in SELECT clause: '{name}' cannot be selected FROM {resource}.",
            )
        if name not in allowed:
            raise _GaqlError(
                "UNRECOGNIZED_FIELD",
                f"Error in SELECT clause: unrecognized field '{name}'.",
            )
    rest = match.group("rest")
    between = _GAQL_BETWEEN.search(rest)
    if between:
        since, until = between.group(1), between.group(2)
    else:
        ge, le = _GAQL_GE.search(rest), _GAQL_LE.search(rest)
        if not (ge and le):
            raise _GaqlError(
                "EXPECTED_FILTERS_ON_DATE_RANGE",
                "Error in query: a finite date range on segments.date is required.",
            )
        since, until = ge.group(1), le.group(1)
    try:
        return selected, date.fromisoformat(since), date.fromisoformat(until), resource
    except ValueError as exc:
        raise _GaqlError("INVALID_VALUE_WITH_DURING_OPERATOR", f"Error in query: bad date: {exc}") from None


def _camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part.capitalize() for part in rest)


def _camel_path(field_path: str) -> str:
    return ".".join(_camel(part) for part in field_path.split("."))


def _google_value(account, row: dict, field_path: str) -> object:
    """The proto3 JSON value of one field; int64 as strings, doubles as numbers."""
    values = {
        "campaign.id": row["campaign_id"],
        "campaign.name": row["campaign_name"],
        "campaign.status": "ENABLED",
        "ad_group.id": row.get("ad_group_id"),
        "ad_group.name": row.get("ad_group_name"),
        "ad_group.status": "ENABLED",
        "customer.id": account.account_id,
        "customer.currency_code": account.currency,
        "customer.time_zone": account.timezone,
        "segments.date": row["date"].isoformat(),
        "metrics.cost_micros": str(round(row["spend"] * 1_000_000)),
        "metrics.impressions": str(row["impressions"]),
        "metrics.clicks": str(row["clicks"]),
        "metrics.conversions": float(row["conversions"]),
        "metrics.conversions_value": float(row["conversion_value"]),
    }
    return values[field_path]


def _google_result(account, row: dict, selected: list[str]) -> dict:
    result: dict = {}
    for field_path in selected:
        value = _google_value(account, row, field_path)
        if value in ("0", 0, 0.0, ""):
            continue  # proto3 JSON leaves out fields at their default value
        resource, name = field_path.split(".", 1)
        group = result.setdefault(_camel(resource), {})
        if resource == "campaign" and "resourceName" not in group:
            group["resourceName"] = f"customers/{account.account_id}/campaigns/{row['campaign_id']}"
        elif resource == "ad_group" and "resourceName" not in group:
            group["resourceName"] = f"customers/{account.account_id}/adGroups/{row['ad_group_id']}"
        elif resource == "customer" and "resourceName" not in group:
            group["resourceName"] = f"customers/{account.account_id}"
        group[_camel(name)] = value
    return result


def generate_credentials() -> dict:
    return {
        "meta": {"access_token": "EAAB" + secrets.token_urlsafe(48)},
        "google_ads": {
            "developer_token": secrets.token_urlsafe(16),
            "client_id": f"{secrets.randbelow(10**12):012d}-sandbox.apps.googleusercontent.com",
            "client_secret": "GOCSPX-" + secrets.token_urlsafe(21),
            "refresh_token": "1//" + secrets.token_urlsafe(64),
        },
        **generate_platform_credentials(),
    }


# -- HTTP plumbing -------------------------------------------------------------


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    sandbox: SandboxServer

    def __init__(self, *args, **kwargs) -> None:
        self._connections: set = set()
        self._connections_lock = threading.Lock()
        super().__init__(*args, **kwargs)

    def process_request(self, request, client_address) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        """Close kept-alive client connections so a stopped server answers nothing."""
        with self._connections_lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "AdsSandbox/1.0"
    disable_nagle_algorithm = True
    wbufsize = -1  # buffered: headers and body leave in one write (flushed per request)
    server: _HTTPServer

    def do_GET(self) -> None:
        self._serve("GET")

    def do_POST(self) -> None:
        self._serve("POST")

    def do_DELETE(self) -> None:
        self._serve("DELETE")

    def _serve(self, method: str) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        query = {k: v[-1] for k, v in parse_qs(parts.query, keep_blank_values=True).items()}
        headers = {k.lower(): v for k, v in self.headers.items()}
        request = Request(
            method=method,
            path=unquote(parts.path),
            query=query,
            headers=headers,
            body=body,
            host=self.headers.get("Host") or f"{self.server.sandbox.host}:{self.server.sandbox.port}",
            raw_query=parts.query,
        )
        try:
            response = self.server.sandbox.handle(request)
        except Exception as exc:  # report it, never kill the server thread
            response = Response.json(500, {"error": f"sandbox bug: {type(exc).__name__}: {exc}"})
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if response.reset_after is not None:  # a connection reset mid-body
            self.wfile.write(response.body[: response.reset_after])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        pass
