"""The FastAPI application: the JSON API under /v1 and the dashboard (api/dashboard.py).

Every GET under /v1 answers with an ETag and is cached per workspace and query until the
marts are built again (api/cache.py); `If-None-Match` gets 304. A workspace's token sees
only its workspace: another workspace's resources answer 404, as a missing one does.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import psycopg
from fastapi import Depends, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from psycopg2.pool import ThreadedConnectionPool
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from api import queries
from api.cache import ResponseCache, etag
from api.dashboard import router as dashboard_router
from api.errors import MAX_RANGE_DAYS, ApiError, not_found, parse_day
from api.orchestrator import Airflow, AirflowRefused, AirflowUnavailable
from api.security import Principal, RateLimiter, token_hash
from api.settings import ConfigurationError, Settings
from api.templating import error_page

log = logging.getLogger("api")
HERE = Path(__file__).resolve().parent
# The chart library npm installed (make install: api/node_modules; the Docker image: ADS_API_VENDOR_DIR).
VENDOR = Path(os.environ.get("ADS_API_VENDOR_DIR") or HERE / "node_modules" / "echarts" / "dist")
DEFAULT_RANGE_DAYS = 28
STATES = ("open", "acknowledged", "snoozed", "resolved")


def to_json(value: Any) -> Any:
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def dumps(payload: Any) -> bytes:
    """JSON as the standard library writes it (dates in ISO form, Decimals as numbers), by orjson: a 28-day
    campaign answer (280 rows of 90 columns) took 8 to 19 ms with `json.dumps`, under 1 ms here."""
    return orjson.dumps(payload, default=to_json)


class Warehouse:
    """A small pool of connections as the api role; reads run in autocommit.

    More requests than connections wait for one (a semaphore in front of the pool): psycopg2's pool
    itself raises when it is exhausted, which at 50 concurrent clients turned into 500s. The pool keeps
    every connection it opens (psycopg2 closes a returned connection beyond `minconn`: with 1 there, most
    requests paid a new login, and the bench measured a third of the service's time in `connect`).
    """

    def __init__(self, dsn: str, size: int = 16, async_size: int = 4):
        self.pool = ThreadedConnectionPool(size, size, dsn)
        self._slots = threading.BoundedSemaphore(size)
        self.dsn, self.async_size = dsn, async_size
        self._loop: asyncio.AbstractEventLoop | None = None
        self._idle: asyncio.LifoQueue = asyncio.LifoQueue()
        with self.connection() as conn, conn.cursor() as cur:
            cur.execute("select current_user, rolsuper from pg_roles where rolname = current_user")
            user, superuser = cur.fetchone()
        if superuser:
            self.pool.closeall()
            raise ConfigurationError(f"the api Connection logs in as {user!r}, a superuser: give the service the api role")

    @contextmanager
    def connection(self, write: bool = False) -> Iterator[Any]:
        with self._slots:
            conn = self.pool.getconn()
            try:
                yield from self._use(conn, write)
            finally:
                self.pool.putconn(conn, close=bool(conn.closed))

    def _use(self, conn, write: bool) -> Iterator[Any]:
        try:
            conn.autocommit = not write
            yield conn
            if write:
                conn.commit()
        except BaseException:
            if write and not conn.closed:
                conn.rollback()
            raise

    @contextmanager
    def cursor(self) -> Iterator[Any]:
        with self.connection() as conn, conn.cursor() as cur:
            yield cur

    async def aclose(self) -> None:
        while not self._idle.empty():
            conn = self._idle.get_nowait()
            if conn is not None:
                await conn.close()

    async def fetchone(self, query: str, params: dict[str, Any] | None = None) -> tuple | None:
        """One row of a read on the event loop, through `async_size` connections of psycopg's async driver.

        Every request makes one round trip before its answer (`principal`); made here, a cache hit takes no
        worker thread at all: handing each request to a thread and back cost more than the round trip, and
        the threads' turns at the interpreter lock made the slowest answers wait.
        """
        loop = asyncio.get_running_loop()
        if self._loop is not loop:  # a new event loop (a test client's): its own connections
            self._loop, self._idle = loop, asyncio.LifoQueue()
            for _ in range(self.async_size):
                self._idle.put_nowait(None)  # a slot without a connection yet
        conn = await self._idle.get()
        try:
            if conn is None or conn.closed:
                conn = await psycopg.AsyncConnection.connect(self.dsn, autocommit=True)
            cur = await conn.execute(query, params)
            row = await cur.fetchone()
        except BaseException:
            if conn is not None and not conn.closed:
                await conn.close()
            self._idle.put_nowait(None)
            raise
        self._idle.put_nowait(conn)
        return row


def create_app(settings: Settings, warehouse: Warehouse | None = None) -> FastAPI:
    @asynccontextmanager
    async def lifespan(app: FastAPI):
        yield
        await app.state.warehouse.aclose()
        app.state.warehouse.pool.closeall()

    app = FastAPI(
        title="ads-elt reporting API",
        version="1",
        description="KPIs, anomalies, alerts, budget recommendations and sync status per workspace; "
        "acknowledge or snooze alerts; ask for a sync. Authenticate with `Authorization: Bearer <token>` "
        "(`python -m api token create --workspace ID`).",
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.warehouse = warehouse or Warehouse(settings.dsn)
    app.state.cache = ResponseCache(settings.cache_entries)
    app.state.limiter = RateLimiter(settings.rate_limit_per_minute)
    app.state.build_log_seen = False
    app.state.airflow = Airflow(settings.airflow.url, settings.airflow.username, settings.airflow.password) if settings.airflow else None
    if VENDOR.is_dir():
        app.mount("/static/vendor", StaticFiles(directory=VENDOR), name="vendor")
    app.mount("/static/app", StaticFiles(directory=HERE / "static"), name="app-static")

    @app.exception_handler(ApiError)
    async def api_error(request: Request, exc: ApiError):
        body: dict[str, Any] = {"detail": exc.detail}
        if exc.parameter:
            body["parameter"] = exc.parameter
        if request.url.path.startswith("/dashboard") or request.url.path.startswith("/charts"):
            return error_page(request, exc.status, exc.detail, exc.headers)
        return JSONResponse(body, status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        parameter = str(first.get("loc", ["", "?"])[-1])
        return JSONResponse(
            {"detail": f"{parameter}: {first.get('msg', 'invalid')}", "parameter": parameter}, status_code=422
        )

    app.include_router(v1_router())
    app.include_router(dashboard_router())

    @app.get("/healthz", include_in_schema=False)
    def healthz():
        with app.state.warehouse.cursor() as cur:
            return {"status": "ok", "marts_built": queries.build_key(cur)}

    return app


# --------------------------------------------------------------------------- /v1


@dataclass(frozen=True)
class RequestView:
    """The warehouse as one request sees it, read once (queries.request_view_query) by `principal`."""

    workspace_id: str | None  # the path's workspace
    workspace_exists: bool
    build_key: str


async def principal(request: Request) -> Principal:
    """The token's holder, after one round trip that also reads the path workspace's existence and the build key.

    Nothing of the token is kept between requests: a revoked token is refused from its next request on.
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError(401, "missing bearer token (Authorization: Bearer <token>)", headers={"WWW-Authenticate": "Bearer"})
    state = request.app.state
    ws = request.path_params.get("ws")
    warehouse = state.warehouse
    if not state.build_log_seen:  # created by the first dbt build; once there it stays
        state.build_log_seen = (await warehouse.fetchone(queries.BUILD_LOG_EXISTS_SQL))[0]
    token_id, token_ws, ws_exists, build = await warehouse.fetchone(
        *queries.request_view_query(token_hash(token.strip()), ws, state.build_log_seen)
    )
    if token_id is None:
        raise ApiError(401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"})
    who = Principal(token_id, token_ws)
    request.state.view = RequestView(ws, ws_exists, build)
    wait = state.limiter.take(who.token_id)
    if wait:
        raise ApiError(429, "rate limit reached for this token", headers={"Retry-After": str(max(1, math.ceil(wait)))})
    return who


def view_of(request: Request, ws: str) -> RequestView | None:
    view = getattr(request.state, "view", None)
    return view if view is not None and view.workspace_id == ws else None


def workspace_of(request: Request, ws: str, who: Principal) -> str:
    """The workspace if this token may see it and it exists; 404 either way otherwise (no existence leak)."""
    if not who.may_see(ws):
        raise not_found(f"workspace {ws!r}")
    view = view_of(request, ws)
    if view is not None:
        exists = view.workspace_exists
    else:
        with request.app.state.warehouse.cursor() as cur:
            exists = queries.workspace_exists(cur, ws)
    if not exists:
        raise not_found(f"workspace {ws!r}")
    return ws


async def visible(request: Request, ws: str, who: Principal) -> str:
    """`workspace_of` for the async endpoints: from the request's round trip, else in a worker thread."""
    if view_of(request, ws) is not None:
        return workspace_of(request, ws, who)
    return await run_in_threadpool(workspace_of, request, ws, who)


async def latest_day(request: Request, ws: str) -> date:
    """The workspace's latest day in the marts (today when it has none), kept per build like a response."""
    state = request.app.state
    view = view_of(request, ws)
    key = f"latest-day\n{ws}\n{view.build_key}" if view is not None else None
    if key is not None and (hit := state.cache.get(key)) is not None:
        return date.fromisoformat(hit.decode())

    def read() -> date:
        with state.warehouse.cursor() as cur:
            return queries.latest_day(cur, ws) or date.today()

    day = await run_in_threadpool(read)
    if key is not None:
        state.cache.put(key, day.isoformat().encode())
    return day


async def date_range(request: Request, ws: str, start: str | None, end: str | None, default_days: int = DEFAULT_RANGE_DAYS) -> tuple[date, date]:
    to = parse_day(end, "to")
    frm = parse_day(start, "from")
    if to is None:
        to = await latest_day(request, ws)
        to = max(to, frm) if frm else to
    if frm is None:
        frm = to - timedelta(days=default_days - 1)
    if frm > to:
        raise ApiError(422, f"from: {frm} is after to ({to})", "from")
    if (to - frm).days + 1 > MAX_RANGE_DAYS:
        raise ApiError(422, f"to: the range {frm}..{to} is over {MAX_RANGE_DAYS} days", "to")
    return frm, to


def conditional(request: Request, version: str) -> tuple[str, dict[str, str], Response | None]:
    """The ETag of this request's answer at `version`, its headers, and a 304 when the client holds it."""
    tag = etag(version, request.url.path, str(sorted(request.query_params.multi_items())))
    headers = {"ETag": tag, "Cache-Control": "private, no-cache"}
    if tag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return tag, headers, Response(status_code=304, headers=headers)
    return tag, headers, None


async def cached(request: Request, ws: str, produce: Callable[[Any], Any], versions: tuple[Callable[[Any, str], str], ...] = ()) -> Response:
    """`produce(cursor)` as JSON, cached on the last build (and `versions`), with ETag and 304.

    The build key comes from the request's one round trip (`principal`): without `versions` a 304 or a
    cache hit is answered on the event loop, taking no connection and no worker thread; whatever reads
    the warehouse (`cached_reading`) runs in a worker thread.
    """
    view = view_of(request, ws)
    if view is not None and not versions:
        tag, headers, not_modified = conditional(request, view.build_key)
        if not_modified is not None:
            return not_modified
        body = request.app.state.cache.get(tag)
        if body is not None:
            return Response(body, media_type="application/json", headers=headers)
    return await run_in_threadpool(cached_reading, request, ws, produce, versions)


def cached_reading(request: Request, ws: str, produce: Callable[[Any], Any], versions: tuple[Callable[[Any, str], str], ...]) -> Response:
    """`cached` where the warehouse is read (the version of alerts and sync status, or the answer): in a worker thread."""
    state = request.app.state
    view = view_of(request, ws)
    with state.warehouse.cursor() as cur:
        build = view.build_key if view is not None else queries.build_key(cur)
        tag, headers, not_modified = conditional(request, "|".join([build, *(v(cur, ws) for v in versions)]))
        if not_modified is not None:
            return not_modified
        body = state.cache.get(tag)
        if body is None:
            body = dumps(produce(cur))
            state.cache.put(tag, body)
    return Response(body, media_type="application/json", headers=headers)


class SnoozeBody(BaseModel):
    until: date = Field(description="the last day the alert stays quiet")
    by: str | None = Field(default=None, max_length=200, description="who snoozed it (recorded)")


class AckBody(BaseModel):
    by: str | None = Field(default=None, max_length=200, description="who acknowledged it (recorded)")


def v1_router():
    from fastapi import APIRouter

    r = APIRouter(prefix="/v1")

    @r.get("/workspaces", summary="The workspaces this token may read")
    def list_workspaces(request: Request, who: Principal = Depends(principal)):
        with request.app.state.warehouse.cursor() as cur:
            names = queries.workspaces(cur)
        return {"workspaces": [w for w in names if who.may_see(w)]}

    @r.get("/workspaces/{ws}/kpis", summary="Daily KPIs with 7- and 28-day windows at a grain")
    async def kpis(
        request: Request,
        ws: str,
        start: str | None = Query(None, alias="from", description="first day (YYYY-MM-DD); default: 28 days before `to`"),
        end: str | None = Query(None, alias="to", description="last day; default: the latest day in the marts"),
        grain: str = Query("campaign", description="campaign | account | platform | workspace"),
        platform: str | None = None,
        campaign: str | None = None,
        who: Principal = Depends(principal),
    ):
        await visible(request, ws, who)
        if grain not in queries.GRAINS:
            raise ApiError(422, f"grain: {grain!r} is not one of {', '.join(queries.GRAINS)}", "grain")
        if campaign and grain != "campaign":
            raise ApiError(422, "campaign: a campaign filter needs grain=campaign", "campaign")
        frm, to = await date_range(request, ws, start, end)
        if campaign and platform:

            def known() -> bool:
                with request.app.state.warehouse.cursor() as cur:
                    return queries.campaign(cur, ws, platform, campaign) is not None

            if not await run_in_threadpool(known):
                raise not_found(f"campaign {platform}/{campaign!r}")

        def produce(cur):
            rows = queries.kpis(cur, ws, grain, frm, to, platform, campaign)
            if campaign and not rows:
                raise not_found(f"campaign {campaign!r}")
            return {"workspace_id": ws, "grain": grain, "from": frm, "to": to, "rows": rows}

        return await cached(request, ws, produce)

    @r.get("/workspaces/{ws}/anomalies", summary="Scored points flagged as anomalies (all=true: every scored point)")
    async def anomalies(
        request: Request,
        ws: str,
        start: str | None = Query(None, alias="from"),
        end: str | None = Query(None, alias="to"),
        platform: str | None = None,
        campaign: str | None = None,
        metric: str | None = None,
        all: bool = Query(False, description="every scored point (the expected band), not only anomalies"),
        who: Principal = Depends(principal),
    ):
        await visible(request, ws, who)
        frm, to = await date_range(request, ws, start, end)
        return await cached(
            request,
            ws,
            lambda cur: {"workspace_id": ws, "from": frm, "to": to, "rows": queries.anomalies(cur, ws, frm, to, platform, campaign, metric, not all)},
        )

    @r.get("/workspaces/{ws}/alerts", summary="Alerts with their state (open, acknowledged, snoozed, resolved)")
    async def alerts(
        request: Request,
        ws: str,
        start: str | None = Query(None, alias="from"),
        end: str | None = Query(None, alias="to"),
        state: str | None = Query(None, description="open | acknowledged | snoozed | resolved"),
        platform: str | None = None,
        campaign: str | None = None,
        who: Principal = Depends(principal),
    ):
        await visible(request, ws, who)
        if state is not None and state not in STATES:
            raise ApiError(422, f"state: {state!r} is not one of {', '.join(STATES)}", "state")
        frm, to = await date_range(request, ws, start, end, default_days=7)
        return await cached(
            request,
            ws,
            lambda cur: {"workspace_id": ws, "from": frm, "to": to, "rows": queries.alerts(cur, ws, frm, to, state, platform, campaign)},
            versions=(queries.alerts_version,),
        )

    @r.get("/workspaces/{ws}/recommendations", summary="Budget recommendations of a day (default: the latest)")
    async def recommendations(request: Request, ws: str, day: str | None = Query(None, alias="date"), who: Principal = Depends(principal)):
        await visible(request, ws, who)
        d = parse_day(day, "date")
        return await cached(request, ws, lambda cur: {"workspace_id": ws, "rows": queries.recommendations(cur, ws, d)})

    @r.get("/workspaces/{ws}/sync-status", summary="Per account: status, data through, failing since, last error")
    async def sync_status(request: Request, ws: str, who: Principal = Depends(principal)):
        await visible(request, ws, who)
        return await cached(
            request, ws, lambda cur: {"workspace_id": ws, "accounts": queries.sync_status(cur, ws)}, versions=(queries.sync_version,)
        )

    def change_state(request: Request, ws: str, alert_id: str, who: Principal, state: str, until: date | None, by: str | None):
        workspace_of(request, ws, who)
        with request.app.state.warehouse.connection(write=True) as conn, conn.cursor() as cur:
            try:
                changed = queries.change_alert_state(cur, ws, alert_id, state, until, by or f"api token {who.token_id}")
            except ValueError as exc:
                raise ApiError(422, str(exc), "until") from None
        if changed is None:
            raise not_found(f"alert {alert_id!r}")
        return {
            "alert_id": alert_id,
            "state": state,
            "state_until": changed["state_until"],
            "alerts_changed": changed["changed"],
        }

    @r.post("/workspaces/{ws}/alerts/{alert_id}/ack", summary="Acknowledge an alert: its series is not sent again while it lasts")
    def ack(request: Request, ws: str, alert_id: str, body: AckBody | None = None, who: Principal = Depends(principal)):
        return change_state(request, ws, alert_id, who, "acknowledged", None, body.by if body else None)

    @r.post("/workspaces/{ws}/alerts/{alert_id}/snooze", summary="Snooze an alert's series until a day")
    def snooze(request: Request, ws: str, alert_id: str, body: SnoozeBody, who: Principal = Depends(principal)):
        return change_state(request, ws, alert_id, who, "snoozed", body.until, body.by)

    def airflow_of(request: Request) -> Airflow:
        af = request.app.state.airflow
        if af is None:
            raise ApiError(503, "syncs need Airflow's API server: run `make ui` (or define the airflow_api Connection)")
        return af

    def trigger(request: Request, conf: dict[str, str]) -> JSONResponse:
        try:
            run = airflow_of(request).trigger(conf)
        except AirflowUnavailable as exc:
            raise ApiError(503, f"{exc}: start it with `make ui`") from None
        except AirflowRefused as exc:
            raise ApiError(502, str(exc)) from None
        payload = {**run, "status_url": f"/v1/workspaces/{conf['workspace_id']}/sync/{run['run_id']}"}
        if run["dag_paused"]:
            payload["note"] = "ads_daily is paused in Airflow: the run waits until it is unpaused"
        return Response(dumps(payload), status_code=202, media_type="application/json")

    @r.post("/workspaces/{ws}/sync", status_code=202, summary="Run ads_daily for this workspace's accounts and stores")
    def sync_workspace(request: Request, ws: str, who: Principal = Depends(principal)):
        workspace_of(request, ws, who)
        return trigger(request, {"workspace_id": ws})

    @r.post(
        "/workspaces/{ws}/accounts/{platform}/{account_id}/sync", status_code=202, summary="Run ads_daily for one account"
    )
    def sync_account(request: Request, ws: str, platform: str, account_id: str, who: Principal = Depends(principal)):
        workspace_of(request, ws, who)
        with request.app.state.warehouse.cursor() as cur:
            if not queries.account_exists(cur, ws, platform, account_id):
                raise not_found(f"account {platform}/{account_id!r}")
        return trigger(request, {"workspace_id": ws, "platform": platform, "account_id": account_id})

    @r.get("/workspaces/{ws}/sync/{run_id}", summary="The state of a sync this workspace asked for")
    def sync_run(request: Request, ws: str, run_id: str, who: Principal = Depends(principal)):
        workspace_of(request, ws, who)
        try:
            run = airflow_of(request).run(run_id)
        except AirflowUnavailable as exc:
            raise ApiError(503, f"{exc}: start it with `make ui`") from None
        except AirflowRefused as exc:
            if exc.status == 404:
                raise not_found(f"sync {run_id!r}") from None
            raise ApiError(502, str(exc)) from None
        if (run.get("conf") or {}).get("workspace_id") != ws:
            raise not_found(f"sync {run_id!r}")
        keys = ("dag_run_id", "state", "conf", "queued_at", "start_date", "end_date", "run_after")
        return {k: run.get(k) for k in keys}

    return r
