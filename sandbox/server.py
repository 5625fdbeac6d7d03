"""One local HTTP server that speaks each platform's wire format over the sandbox world.

One port, one path prefix per platform, so a client's base URL is
``http://127.0.0.1:PORT/<platform>`` (``/meta``, ``/google_ads``, ..., the stores'
``/shopify/<shop>``) and the rest of the path is the real API's. Each
platform is a fake in ``sandbox/platforms/`` (its routes, tokens and wire format),
found there by ``sandbox.platforms.platform_apis``; this module only dispatches.

Admin endpoints (JSON) under ``/_sandbox/``:

- ``GET|POST /_sandbox/clock`` ``{"today": "YYYY-MM-DD"}``: the sandbox's today,
  which sets restatement (``as_of``) and which days exist (days before today).
- ``GET|POST|DELETE /_sandbox/faults``: the fault table. POST
  ``{"platform", "account_id", "kind", "count", "skip", ...params}``; ``platform``
  or ``account_id`` null matches any, ``count`` null means always, ``skip`` lets
  that many matching requests through first. Kinds are listed in ``FAULT_KINDS``
  (``sandbox/faults.py``: the effects; each platform's fake gives its own error
  bodies). Faults apply to report endpoints only (not to token endpoints) and are
  checked in one place before dispatch.
- ``POST /_sandbox/tokens/expire``: every access token the platforms issued stops working.
- ``GET|DELETE /_sandbox/stats``: request counters per platform.

Latency and rate limits (constructor, or ``python -m sandbox serve``): every
report request waits ``latency`` seconds before it is answered, and a platform
answers more than ``rate_limit`` report requests within any ``rate_window``
seconds with its own throttling answer, counted in the stats as
``rate_limit_violations``.
"""

from __future__ import annotations

import json
import re
import socket
import threading
from collections import deque
from datetime import date, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from time import monotonic, sleep
from typing import Self
from urllib.parse import parse_qs, unquote, urlsplit

from sandbox.faults import FAULT_KINDS, Fault, FaultContext, FaultTable, fault_response
from sandbox.platforms import new_credentials, platform_apis
from sandbox.stores import StoreWorld
from sandbox.wire import Request, Response, Route
from sandbox.world import World


class SandboxServer:
    """The world behind real-looking endpoints of every platform in ``sandbox/platforms/``.

    ``credentials``: per platform, what its Connection holds (``{"meta": {"access_token"},
    "google_ads": {"developer_token", "client_id", "client_secret", "refresh_token"}, ...}``);
    random ones for the platforms it leaves out (see ``.credentials``). ``today``: the sandbox
    clock, default ``world.end_date + 1``. ``stores``: the store orders
    (``sandbox.stores.StoreWorld``; default the demo stores over ``world``).
    """

    def __init__(
        self,
        world: World,
        host: str = "127.0.0.1",
        port: int = 0,
        credentials: dict | None = None,
        today: date | None = None,
        latency: float = 0.0,
        rate_limit: int | None = None,
        rate_window: float = 1.0,
        stores=None,
        page_cache: int = 64,
    ) -> None:
        self.world = world
        self.host = host
        self.port = port
        self.credentials = credentials or {}
        for name, platform_credentials in new_credentials().items():
            self.credentials.setdefault(name, platform_credentials)
        self.latency = float(latency)  # seconds added to every report request
        self.rate_limit = rate_limit  # report requests per platform within any rate_window seconds
        self.rate_window = float(rate_window)
        self.stores = stores if stores is not None else StoreWorld(world)
        self._recent: dict[str, deque] = {}
        self._today = today or world.default_as_of
        self._lock = threading.Lock()
        self._faults = FaultTable()
        self._stats: dict = {}
        self._in_flight: dict[str, int] = {}
        self._pages: dict[tuple, list[dict]] = {}  # the rows paged through (see paged_rows)
        self._page_cache = page_cache  # queries kept in _pages
        self._httpd: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        admin = (
            ("GET", "clock", self._admin_get_clock),
            ("POST", "clock", self._admin_set_clock),
            ("GET", "faults", self._admin_list_faults),
            ("POST", "faults", self._admin_add_fault),
            ("DELETE", "faults", self._admin_clear_faults),
            ("GET", "stats", self._admin_stats),
            ("DELETE", "stats", self._admin_reset_stats),
            ("POST", "tokens/expire", self._admin_expire_tokens),
        )
        self._routes = [
            Route(method, re.compile(rf"^/_sandbox/{path}$"), "_sandbox", path.split("/")[0], handler) for method, path, handler in admin
        ]
        self._platform_apis = platform_apis(self)
        for api in self._platform_apis.values():
            self._routes.extend(api.routes())

    def platform_api(self, platform: str):
        """The state of one platform's fake (scripts, tokens, counters)."""
        return self._platform_apis[platform]

    def platform_url(self, platform: str) -> str:
        """The base URL a Connection's host points at, e.g. ``http://127.0.0.1:PORT/meta``."""
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
        faultable = sorted({r.platform for r in self._routes if r.faultable})
        return self._faults.add(kind, platform, account_id, count, skip, params, faultable)

    def clear_faults(self) -> int:
        return self._faults.clear()

    def faults(self) -> list[dict]:
        return self._faults.listed()

    def stats(self) -> dict:
        with self._lock:
            return json.loads(json.dumps(self._stats))

    def reset_stats(self) -> None:
        with self._lock:
            self._stats = {}

    def expire_tokens(self) -> int:
        """Every access token the platforms issued stops working; returns how many did."""
        return sum(api.expire_tokens() for api in self._platform_apis.values())

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
                    fault = self._faults.take(route.platform, account_id)
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
        api = self._platform_apis.get(platform)
        answer = api.not_found(request, status) if api is not None else None
        return answer or Response.json(status, {"error": f"no route for {request.method} {request.path}"})

    # -- faults -------------------------------------------------------------

    def _fault_response(self, route: Route, fault: Fault, request: Request, match: re.Match) -> Response:
        def real() -> Response:
            return route.handler(request, *match.groups())

        ctx = FaultContext(route, request, match, real, self._platform_apis.get(route.platform))
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

    # -- rows kept for paging -----------------------------------------------

    def paged_rows(self, platform: str, account_id: str, since: date, until: date, as_of: date, level: str = "campaign") -> list[dict]:
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
        return sum(len(self.paged_rows(platform, account_id, since, until, self.today, level)) for level in levels)


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
