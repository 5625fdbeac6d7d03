"""Benchmarks: how the pipeline scales, each figure a ratio against a baseline measured in the same run.

    python scripts/bench.py                       # the default size (under 10 minutes on 2 cores)
    python scripts/bench.py --campaigns 25        # a bigger world for the load, transform and full build
    python scripts/bench.py --full-build-campaigns 2000   # figure 4 at full size (2 years x 2,000 campaigns)
    python scripts/bench.py --only load,extract   # some figures only

Figures (targets in brackets):

1. Raw load: rows/s of the loader (lake pages -> validation -> replace the
   account's window in raw.*) against `psql \\copy` of the same rows from a CSV
   file into a table of the same shape [>= 0.7], the best of three each, into
   empty tables; a re-load that replaces every row, and row-by-row INSERT, for
   contrast.
2. Daily transform: wall time of the daily `dbt build` (one new day plus the
   platforms' lookback, incremental marts and anomaly scores) on 730 days of
   history against the same on 90 days [<= 1.5].
3. Extraction: accounts extracted through the sandbox with a latency per page
   and a platform rate limit, against the bound the two set [<= 1.3], with
   zero rate-limit violations counted by the sandbox.
4. Full history build: `dbt build --full-refresh` on the 730-day world (time,
   peak memory of dbt and of the Postgres server).
5. DAG parse time with a registry of 1,000 accounts [< 1 s].

Everything runs on a private PostgreSQL cluster under `.local/bench/pg`
(removed afterwards) and in-process sandbox servers; the report goes to
`.local/bench/report.json` and `.local/bench/report.md`. Benchmarks never fail
a build on a time: the exit status is 0 whatever the figures.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import platform as host_platform
import random
import shutil
import statistics
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _p in (REPO, REPO / "plugins", REPO / "scripts"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from localpg import Cluster  # noqa: E402
from stack import airflow_env, connections_env, dbt_cli_env, ensure_manifest, new_credentials, venv_bin  # noqa: E402

from adapters import PLATFORMS, ad_platforms  # noqa: E402

OUT = REPO / ".local" / "bench"
END_DATE = date(2026, 11, 20)
# The ad platforms pulled over an API and their default lookbacks, from the catalogue (in its order).
PLATFORM_LOOKBACK = {p: PLATFORMS[p].lookback_days for p in ad_platforms() if PLATFORMS[p].fetch is not None}
CURRENCIES = (("USD", "America/New_York"), ("EUR", "Europe/Berlin"), ("GBP", "Europe/London"))
# dbt builds leave out the unit tests (fixed inputs, a fixed cost that says nothing about scale). The bench's
# "days" are minutes apart, so the incremental watermark's safety margin for loads still running while dbt
# runs (an hour by default; none run here) is set to zero, or every run would re-take the first day's loads.
BUILD_ARGS = ("--exclude", "resource_type:unit_test", "--vars", "{incremental_watermark_margin_hours: 0}")
# The daily build of figure 2 is the whole project, as the DAG runs it (mart_anomalies included: it is
# incremental like the facts); its time is also reported apart (`daily_anomalies_seconds_*`).
DAILY_ARGS = BUILD_ARGS
# Request spacing of the extraction figure, in units of 1 / rate: the sandbox counts arrivals in any
# 1-second window, and a request can reach it a little after its slot while the next one is on time
# (scheduling delays of two processes on 2 cores). 1.2 leaves 0.2 s per window for that; late wake-ups
# beyond half an interval take a new slot (adapters.pacing.SharedPacer). At 1.12, without that, a run
# counted 7 violations.
PACING_MARGIN = 1.2
FIGURES = ("load", "transform", "extract", "full_build", "dag_parse", "stream")
TARGETS = {
    "load_vs_copy": (">=", 0.7),
    "daily_transform_730_vs_90": ("<=", 1.5),
    "extract_vs_bound": ("<=", 1.3),
    "rate_limit_violations": ("==", 0),
    "dag_parse_seconds_1000_accounts": ("<", 1.0),
    "api_p95_ms_kpis": ("<=", 100),
}


def log(message: str) -> None:
    print(f"[bench {datetime.now():%H:%M:%S}] {message}", flush=True)


# -- the world ------------------------------------------------------------------------


@dataclass
class WorldSize:
    workspaces: int = 4
    accounts: int = 8  # spread over the platforms and workspaces
    campaigns: int = 5  # per account
    days: int = 730
    platforms: tuple[str, ...] = tuple(PLATFORM_LOOKBACK)[:4]  # the catalogue's first four API platforms
    seed: int = 7

    @property
    def campaign_days(self) -> int:
        return self.accounts * self.campaigns * self.days


def _uuid_ids(platform: str) -> bool:
    """The platform's ids are UUIDs (its sandbox traits), not numbers."""
    from sandbox.platforms import ad_traits

    return ad_traits()[platform].uuid_ids


def _account_id(platform: str, n: int, rng: random.Random) -> str:
    if _uuid_ids(platform):
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return str(10**9 * (1 + list(PLATFORM_LOOKBACK).index(platform)) + n)


def _campaign_id(platform: str, account_n: int, n: int, rng: random.Random) -> str:
    if _uuid_ids(platform):
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return str(10**11 * (1 + list(PLATFORM_LOOKBACK).index(platform)) + account_n * 10**4 + n)


MAX_BENCH_ROAS = 12.0  # well inside the dq_thresholds bound of 50: bench data never warns as implausible


def _bench_campaign(campaign_id: str, name: str, rng: random.Random):
    """A campaign with drawn economics; the order value is capped so ROAS (ctr x cvr x aov x 1000 / cpm) stays plausible."""
    from sandbox.world import Campaign

    daily_spend, cpm = round(rng.uniform(80, 1500), 2), round(rng.uniform(6, 30), 2)
    ctr, cvr, aov = round(rng.uniform(0.006, 0.04), 4), round(rng.uniform(0.02, 0.09), 4), rng.uniform(35, 140)
    aov = round(min(aov, MAX_BENCH_ROAS * cpm / (1000 * ctr * cvr)), 2)
    return Campaign(campaign_id, name, daily_spend=daily_spend, cpm=cpm, ctr=ctr, cvr=cvr, aov=aov, frequency=round(rng.uniform(1.1, 2.2), 2))


def bench_world(size: WorldSize, end_date: date = END_DATE):
    """A seeded world of `size`: accounts round-robin over platforms and workspaces, sane economics."""
    from sandbox.world import Account, World

    rng = random.Random(size.seed)
    accounts = []
    for n in range(size.accounts):
        platform = size.platforms[n % len(size.platforms)]
        workspace = n % size.workspaces
        currency, timezone = CURRENCIES[workspace % len(CURRENCIES)]
        campaigns = tuple(_bench_campaign(_campaign_id(platform, n, c, rng), f"Bench {platform} {n}-{c}", rng) for c in range(size.campaigns))
        accounts.append(
            Account(
                platform=platform,
                account_id=_account_id(platform, n, rng),
                workspace_id=f"bench_ws_{workspace:03d}",
                currency=currency,
                timezone=timezone,
                campaigns=campaigns,
                name=f"Bench {platform} account {n}",
            )
        )
    return World(accounts=accounts, seed=size.seed, start_date=end_date - timedelta(days=size.days - 1), end_date=end_date)


def write_registry(world, path: Path, history_days: int) -> Path:
    """A workspace registry for `world`'s accounts (every account on its platform's default Connection)."""
    import yaml

    workspaces: dict[str, dict] = {}
    for account in world.accounts:
        ws = workspaces.setdefault(
            account.workspace_id,
            {
                "id": account.workspace_id,
                "name": account.workspace_id.replace("_", " ").title(),
                "currency": account.currency,
                "timezone": account.timezone,
                "accounts": [],
            },
        )
        ws["accounts"].append(
            {"platform": account.platform, "account_id": account.account_id, "name": account.name, "connection": f"{account.platform}_default"}
        )
    doc = {
        "version": 1,
        "defaults": {"initial_history_days": history_days, "lookback_days": dict(PLATFORM_LOOKBACK)},
        "workspaces": list(workspaces.values()),
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


# -- the stack: a private Postgres, sandbox servers, the pipeline's task bodies in-process ----------


@contextlib.contextmanager
def environ(env: dict[str, str]) -> Iterator[None]:
    """Set environment variables for the duration (the pipeline reads Connections and settings from them)."""
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        yield
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


@dataclass
class Warehouse:
    """One database on the bench's cluster, with the environment the pipeline and dbt need to use it."""

    cluster: Cluster
    dbname: str
    home: Path

    @classmethod
    def create(cls, cluster: Cluster, home: Path, prefix: str = "bench") -> Warehouse:
        import psycopg2

        dbname = f"{prefix}_{uuid.uuid4().hex[:8]}"
        conn = psycopg2.connect(cluster.dsn("postgres"))
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'create database "{dbname}"')
        conn.close()
        home.mkdir(parents=True, exist_ok=True)
        return cls(cluster, dbname, home)

    @property
    def dsn(self) -> str:
        return self.cluster.dsn(self.dbname)

    def env(self, sandbox_url: str, creds: dict, registry: Path) -> dict[str, str]:
        env = airflow_env(self.home / "airflow", self.home / "lake")
        env.update(connections_env(self.cluster.port, self.cluster.password, self.dbname, sandbox_url, creds, report_poll_seconds=0.2))
        env.update(dbt_cli_env(self.cluster.port, self.cluster.password, self.dbname))
        env["ADS_ELT_REGISTRY"] = str(registry)
        env.pop("PYTHONPATH", None)  # this process already has the paths; dbt subprocesses get it back below
        return env

    def query(self, sql: str, params: tuple = (), autocommit: bool = False) -> list[tuple]:
        """Run `sql` and commit; `autocommit` for what cannot run in a transaction (vacuum)."""
        import psycopg2

        conn = psycopg2.connect(self.dsn)
        conn.autocommit = autocommit
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.commit()
            conn.close()


def sync(run_date: date, platforms: tuple[str, ...], concurrency: int = 4) -> dict:
    """One day's extract and load for every account, through the DAG's own task bodies (ads_elt.ingestion.pipeline).

    Extracts run `concurrency` at a time (the DAG's ADS_ELT_EXTRACT_CONCURRENCY), loads one after another.
    """
    from ads_elt.ingestion import pipeline

    run_id = f"bench__{run_date.isoformat()}__{uuid.uuid4().hex[:6]}"
    pipeline.prepare(run_date)
    scopes = [s for p in platforms for s in pipeline.plan(p, run_date, run_id)]
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=concurrency) as pool:
        batches = list(pool.map(pipeline.extract, scopes))
    t1 = time.perf_counter()
    loaded = [pipeline.load(b) for b in batches]
    t2 = time.perf_counter()
    return {
        "accounts": len(scopes),
        "rows": sum(r["rows_loaded"] for r in loaded),
        "extract_seconds": round(t1 - t0, 3),
        "load_seconds": round(t2 - t1, 3),
    }


def run_dbt(args: list[str], env: dict[str, str], workdir: Path, sample_memory_of: Cluster | None = None) -> dict:
    """`dbt <args>` as a subprocess with its own target and log paths; wall time, node timings, peak memory."""
    cmd = [
        venv_bin("dbt"),
        *args,
        "--project-dir", str(REPO / "dbt_project"),
        "--profiles-dir", str(REPO / "dbt_project"),
        "--target-path", str(workdir / "target"),
        "--log-path", str(workdir / "logs"),
    ]  # fmt: skip
    full_env = {**os.environ, **env, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")])}
    sampler = MemorySampler(sample_memory_of) if sample_memory_of else None
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, env=full_env, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if sampler:
        sampler.start(proc.pid)
    out, _ = proc.communicate()
    seconds = time.perf_counter() - t0
    peaks = sampler.stop() if sampler else {}
    results_file = workdir / "target" / "run_results.json"
    results = json.loads(results_file.read_text())["results"] if results_file.exists() else []
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    if proc.returncode != 0:
        log(f"dbt {' '.join(args)} exited {proc.returncode}: {out[-1500:]}")
    return {
        "seconds": round(seconds, 3),
        "returncode": proc.returncode,
        "statuses": statuses,
        "nodes": {r["unique_id"]: round(r["execution_time"], 3) for r in results},
        **peaks,
    }


class MemorySampler:
    """Peak memory while a command runs: RSS of its process tree, and PSS of the Postgres server's processes."""

    def __init__(self, cluster: Cluster, interval: float = 0.25) -> None:
        self.cluster = cluster
        self.interval = interval
        self._stop = threading.Event()
        self.peak_client = 0
        self.peak_server = 0

    def _server_processes(self):
        import psutil

        pid_file = self.cluster.data / "postmaster.pid"
        try:
            postmaster = psutil.Process(int(pid_file.read_text().splitlines()[0]))
            return [postmaster, *postmaster.children(recursive=True)]
        except (OSError, ValueError, psutil.Error):
            return []

    def _loop(self, pid: int) -> None:
        import psutil

        try:
            root = psutil.Process(pid)
        except psutil.Error:
            return
        while not self._stop.is_set():
            try:
                client = sum(p.memory_info().rss for p in [root, *root.children(recursive=True)])
                self.peak_client = max(self.peak_client, client)
            except psutil.Error:
                pass
            server = 0
            for p in self._server_processes():
                with contextlib.suppress(psutil.Error):
                    server += p.memory_full_info().pss
            self.peak_server = max(self.peak_server, server)
            self._stop.wait(self.interval)

    def start(self, pid: int) -> None:
        self._thread = threading.Thread(target=self._loop, args=(pid,), daemon=True)
        self._thread.start()

    def stop(self) -> dict:
        self._stop.set()
        self._thread.join(timeout=5)
        mb = 1024 * 1024
        return {"peak_dbt_mb": round(self.peak_client / mb, 1), "peak_postgres_mb": round(self.peak_server / mb, 1)}


@contextlib.contextmanager
def sandbox(world, today: date, **limits) -> Iterator:
    from sandbox.server import SandboxServer

    server = SandboxServer(world, credentials=new_credentials(), today=today, **limits)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _serve(world, today, limits, conn) -> None:
    from sandbox.server import SandboxServer

    server = SandboxServer(world, credentials=new_credentials(), today=today, **limits).start()
    conn.send((server.url, server.credentials))
    while (message := conn.recv()) != "stop":  # ("prepare", queries) until told to stop
        conn.send(sum(server.prepare_pages(*query) for query in message[1]))
    conn.send(server.stats())
    server.stop()


@contextlib.contextmanager
def sandbox_process(world, today: date, **limits) -> Iterator[dict]:
    """The sandbox in a process of its own, so its work never competes with the client for one interpreter."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_serve, args=(world, today, limits, child), daemon=True)
    proc.start()
    url, credentials = parent.recv()

    def prepare(queries: list[tuple]) -> int:
        """Have the sandbox compute these (platform, account_id, since, until, levels) queries' rows now."""
        parent.send(("prepare", queries))
        return parent.recv()

    handle = {"url": url, "credentials": credentials, "stats": {}, "prepare": prepare}
    try:
        yield handle
    finally:
        parent.send("stop")
        handle["stats"] = parent.recv()
        proc.join(timeout=10)


def reset_request_gates() -> None:
    """Forget the per-process platform gates, so new ADS_ELT_<PLATFORM>_* limits apply."""
    from adapters import pacing

    pacing.forget_gates()


# -- figure 1: raw load against \copy --------------------------------------------------------


def settle(wh: Warehouse, tables: list[str] | None = None) -> None:
    """Do now, untimed, the upkeep the server would do next on freshly written `tables` (None: every
    table of the database), then checkpoint.

    Hundreds of thousands of new rows set off autovacuum (insert-triggered vacuum and analyze)
    within its nap time: left to itself it runs on one of the two cores during whichever
    measurement comes next, so one side would pay for the other's writes.
    """
    wh.query(f"vacuum analyze {', '.join(tables or [])}", autocommit=True)
    wh.query("checkpoint")


def figure_load(cluster: Cluster, rows: int, repeats: int = 3) -> dict:
    """The loader against `psql \\copy` of the same rows; row-by-row INSERT for contrast.

    The loader loads one Google Ads account's batches as the DAG does (every report of the
    platform: campaign-day and ad-group-day), and ``\\copy`` writes the same rows from CSV
    files into tables of the same shapes, one psql session for all of them.
    """
    import psycopg2

    from ads_elt.ingestion import lake, pipeline
    from ads_elt.ingestion.raw_batch import copy_rows, prepare_rows
    from ads_elt.warehouse import raw_table

    campaigns = max(1, rows // 730)
    size = WorldSize(workspaces=1, accounts=1, campaigns=campaigns, days=730, platforms=("google_ads",))
    world = bench_world(size)
    home = OUT / "work" / "load"
    wh = Warehouse.create(cluster, home, "bench_load")
    registry = write_registry(world, home / "registry.yml", history_days=size.days)
    columns = "workspace_id, account_id, report_date, payload, sync_run_id, window_start, window_end, extracted_at"
    with sandbox(world, END_DATE + timedelta(days=1)) as server, environ(wh.env(server.url, server.credentials, registry)):
        run_date = END_DATE
        pipeline.prepare(run_date)
        (scope,) = pipeline.plan("google_ads", run_date, f"bench_load__{uuid.uuid4().hex[:6]}")
        batch = pipeline.extract(scope)
        reports = []  # (table, lake directory, manifest, rows)
        for entry in batch["batches"]:
            directory, raw = lake.read_manifest(entry["uri"])
            manifest = lake.LakeManifest.of(raw)
            prepared = prepare_rows(manifest, list(lake.read_pages(directory, manifest)))
            reports.append((raw_table(manifest.platform, manifest.report), directory, manifest, list(prepared.rows())))
        n = sum(len(r[3]) for r in reports)
        copy_commands = []
        for table, _, _, report_rows in reports:
            csv_path = home / f"{table}.csv"
            with open(csv_path, "w", newline="") as f:
                csv.writer(f, lineterminator="\n").writerows(report_rows)
            wh.query(f"create table public.copy_{table} (like raw.{table} including all)")
            copy_commands += ["-c", f"\\copy public.copy_{table} ({columns}) from '{csv_path}' with (format csv)"]
        wh.query("create table public.insert_target (like raw.google_ads__campaign_performance including all)")
        env = {**os.environ, "PGPASSWORD": cluster.password}
        psql = [shutil.which("psql") or "psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "-d", wh.dbname]
        copy_tables, raw_tables = [f"public.copy_{t}" for t, *_ in reports], [f"raw.{t}" for t, *_ in reports]
        loader_s, copy_s = [], []
        for _ in range(repeats):
            # Both start from empty tables each time: \copy's targets are truncated, and so are the raw
            # tables, so the loader's replace of the window finds nothing to delete (a first load).
            wh.query(f"truncate {', '.join(copy_tables + raw_tables)}")
            wh.query("checkpoint")
            t0 = time.perf_counter()
            subprocess.run([*psql, *copy_commands], env=env, check=True)
            copy_s.append(time.perf_counter() - t0)
            settle(wh, copy_tables)
            t0 = time.perf_counter()
            result = pipeline.load(batch)
            loader_s.append(time.perf_counter() - t0)
            settle(wh, raw_tables)
            assert sum(r["rows_loaded"] for r in result["reports"]) == n, result
            assert sum(r["rows_replaced"] for r in result["reports"]) == 0, result
        # A re-load of the same batch: every row of the window is replaced (deleted, then COPYed again).
        t0 = time.perf_counter()
        result = pipeline.load(batch)
        reload_s = time.perf_counter() - t0
        assert sum(r["rows_replaced"] for r in result["reports"]) == n, result
        # Where the validated-first path's time goes: parsing and validation in Python, then the write (delete, COPY).
        prepare_s, write_s = [], []
        for _ in range(repeats):
            t0 = time.perf_counter()
            prepared_all = [
                (table, manifest, prepare_rows(manifest, list(lake.read_pages(directory, manifest))))
                for table, directory, manifest, _ in reports
            ]
            prepare_s.append(time.perf_counter() - t0)
            conn = psycopg2.connect(wh.dsn)
            t0 = time.perf_counter()
            with conn.cursor() as cur:
                for table, manifest, prepared in prepared_all:
                    cur.execute(
                        f"delete from raw.{table} where workspace_id = %s and account_id = %s",
                        (manifest.workspace_id, manifest.account_id),
                    )
                    copy_rows(cur, table, prepared)
            conn.commit()
            write_s.append(time.perf_counter() - t0)
            conn.close()
        primary_rows = reports[0][3]
        naive_rows = min(len(primary_rows), 20000)
        conn = psycopg2.connect(wh.dsn)
        t0 = time.perf_counter()
        with conn.cursor() as cur:
            for row in primary_rows[:naive_rows]:
                cur.execute(f"insert into public.insert_target ({columns}) values (%s, %s, %s, %s, %s, %s, %s, %s)", row)
        conn.commit()
        insert_s = time.perf_counter() - t0
        conn.close()
    loader_rps = n / min(loader_s)
    copy_rps = n / min(copy_s)
    return {
        "load_vs_copy": round(loader_rps / copy_rps, 3),
        "load_rows": n,
        "load_rows_by_table": {table: len(report_rows) for table, _, _, report_rows in reports},
        "load_loader_rows_per_second": round(loader_rps),
        "load_copy_rows_per_second": round(copy_rps),
        "load_insert_rows_per_second": round(naive_rows / insert_s),
        "load_insert_vs_copy": round((naive_rows / insert_s) / copy_rps, 3),
        "load_loader_seconds": [round(s, 3) for s in loader_s],
        "load_copy_seconds": [round(s, 3) for s in copy_s],
        "load_reload_seconds": round(reload_s, 3),
        "load_reload_vs_copy": round(min(copy_s) / reload_s, 3),
        "load_validated_first_parse_validate_seconds": round(min(prepare_s), 3),
        "load_validated_first_write_seconds": round(min(write_s), 3),
        "load_validated_first_vs_copy": round(min(copy_s) / (min(prepare_s) + min(write_s)), 3),
        "load_payload_bytes_avg": round(sum(len(r[3]) for _, _, _, rs in reports for r in rs) / max(n, 1)),
    }


# -- figures 2 and 4: daily transform on 730 against 90 days; the full build ---------------------


def history_warehouse(cluster: Cluster, world, size: WorldSize, history_days: int, label: str) -> tuple[Warehouse, dict]:
    """A warehouse holding `history_days` of `world`, synced and fully built as the first day's run would."""
    home = OUT / "work" / label
    wh = Warehouse.create(cluster, home, f"bench_{label}")
    registry = write_registry(world, home / "registry.yml", history_days=history_days)
    # The sandbox in its own process: generating years of pages is the fake's CPU, on the other core.
    with sandbox_process(world, END_DATE + timedelta(days=1)) as server, environ(wh.env(server["url"], server["credentials"], registry)):
        stats = sync(END_DATE, size.platforms)
    return wh, {"registry": registry, **stats}


def daily_runs(wh: Warehouse, world, size: WorldSize, registry: Path, days: int, label: str) -> list[dict]:
    """`days` consecutive daily runs (extract and load the lookback, then the daily dbt build), timed."""
    out = []
    for n in range(1, days + 1):
        run_date = END_DATE + timedelta(days=n)
        with sandbox(world, run_date + timedelta(days=1)) as server:
            env = wh.env(server.url, server.credentials, registry)
            with environ(env):
                stats = sync(run_date, size.platforms)
            build = run_dbt(["build", *DAILY_ARGS], env, wh.home / f"daily-{n}")
        log(f"{label}: daily run {run_date}: {stats['rows']} rows re-pulled, dbt build {build['seconds']} s")
        out.append({"run_date": run_date.isoformat(), **stats, "dbt": build})
    return out


INCREMENTAL_MODELS = (".fct_ad_performance_daily", ".mart_campaign_kpis_daily", ".mart_anomalies")


def _incremental_nodes(build: dict, models: tuple[str, ...] = INCREMENTAL_MODELS) -> float:
    return sum(s for uid, s in build["nodes"].items() if uid.startswith("model.") and uid.endswith(models))


def figure_transform(cluster: Cluster, size: WorldSize, daily_days: int = 2) -> dict:
    world = bench_world(size)
    result: dict = {}
    builds = {}
    for days in (90, size.days):
        label = f"history_{days}"
        log(f"{label}: syncing {size.accounts} accounts x {size.campaigns} campaigns x {days} days")
        wh, stats = history_warehouse(cluster, world, size, days, label)
        env = wh.env("http://127.0.0.1:9", new_credentials(), stats["registry"])
        full = run_dbt(["build", "--full-refresh", *BUILD_ARGS], env, wh.home / "full", sample_memory_of=cluster)
        log(f"{label}: {stats['rows']} raw rows; full build {full['seconds']} s")
        daily = daily_runs(wh, world, size, stats["registry"], daily_days, label)
        builds[days] = {"full": full, "daily": daily, "sync": stats, "wh": wh}
    short, long_ = builds[90], builds[size.days]
    t_short = min(d["dbt"]["seconds"] for d in short["daily"])
    t_long = min(d["dbt"]["seconds"] for d in long_["daily"])
    inc_short = min(_incremental_nodes(d["dbt"]) for d in short["daily"])
    inc_long = min(_incremental_nodes(d["dbt"]) for d in long_["daily"])
    slowest = sorted(long_["daily"][-1]["dbt"]["nodes"].items(), key=lambda kv: -kv[1])[:8]
    result.update(
        {
            "daily_transform_730_vs_90": round(t_long / t_short, 3),
            "daily_transform_seconds_730": t_long,
            "daily_transform_seconds_90": t_short,
            "daily_incremental_marts_seconds_730": round(inc_long, 3),
            "daily_incremental_marts_seconds_90": round(inc_short, 3),
            "daily_incremental_marts_730_vs_90": round(inc_long / inc_short, 3) if inc_short else None,
            "daily_anomalies_seconds_730": min(_incremental_nodes(d["dbt"], (".mart_anomalies",)) for d in long_["daily"]),
            "daily_anomalies_seconds_90": min(_incremental_nodes(d["dbt"], (".mart_anomalies",)) for d in short["daily"]),
            "full_refresh_seconds_730": long_["full"]["seconds"],
            "full_refresh_seconds_90": short["full"]["seconds"],
            "daily_vs_full_refresh_730": round(t_long / long_["full"]["seconds"], 3),
            "daily_slowest_nodes_730": dict(slowest),
            "daily_dbt_statuses_730": long_["daily"][-1]["dbt"]["statuses"],
            "transform_campaign_days_730": long_["sync"]["rows"],
            "transform_campaign_days_90": short["sync"]["rows"],
            # Figure 4 at the default size: the 730-day world's full build.
            "full_build_seconds": long_["full"]["seconds"],
            "full_build_peak_mb": long_["full"].get("peak_dbt_mb"),
            "full_build_postgres_peak_mb": long_["full"].get("peak_postgres_mb"),
            "full_build_campaign_days": long_["sync"]["rows"],
            "full_build_campaigns": size.accounts * size.campaigns,
            "full_build_platforms": len(size.platforms),
            "full_build_statuses": long_["full"]["statuses"],
        }
    )
    try:
        log("figure 6: the reporting API's campaign KPIs at 50 concurrent clients on the 730-day warehouse")
        result.update(figure_api(long_["wh"], long_["sync"]["registry"]))
    except Exception as exc:  # the transform's figures stand without it
        log(f"api failed: {type(exc).__name__}: {exc}")
        result.setdefault("errors", {})["api"] = f"{type(exc).__name__}: {exc}"[:2000]
    for b in builds.values():
        b.pop("wh")
    return result


def figure_api(wh: Warehouse, registry: Path, clients: int = 50, seconds: int = 10) -> dict:
    """p95 latency and throughput of `GET /v1/workspaces/{ws}/kpis` (campaign grain, 28 days) at `clients` at once.

    Warm: every client asks the same question (the cache answers after the first). Cold: every request asks
    a different range, so each one is read from the marts.
    """
    import subprocess
    from urllib.parse import urlencode

    import api_load
    import psycopg2
    import requests
    from stack import free_port, service_connections_env, wait_http

    from api.security import create_token

    creds = new_credentials()
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    # The bench builds as the administrator; the DAG's prepare would hand the marts to the transformer, whose
    # default privileges let the api role read them. Here the grant is given directly.
    wh.query("grant usage on schema marts to ads_api; grant select on all tables in schema marts to ads_api")
    env = {
        **os.environ,
        **wh.env("http://127.0.0.1:9", creds, registry),
        **service_connections_env(creds, api_url=url),
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")]),
        "ADS_API_RATE_LIMIT": "10000000",
    }
    # The builds just wrote millions of rows: their autovacuum would otherwise take a core from the service
    # and its clients while they are measured.
    settle(wh)
    log_file = open(wh.home / "api.log", "wb")
    proc = subprocess.Popen([sys.executable, "-m", "api", "serve", "--port", str(port)], cwd=REPO, env=env, stdout=log_file, stderr=subprocess.STDOUT)
    try:
        wait_http(f"{url}/healthz", 60, proc, wh.home / "api.log", "reporting service")
        http = requests.Session()
        http.trust_env = False
        (ws, last), = wh.query(
            "select workspace_id, max(date_day) from marts.mart_campaign_kpis_daily group by 1 order by count(*) desc limit 1"
        )
        conn = psycopg2.connect(wh.dsn)
        token = create_token(conn, ws, "bench")[1]
        conn.close()
        headers = {"Authorization": f"Bearer {token}"}
        path = f"{url}/v1/workspaces/{ws}/kpis"

        # The clients are wrk's (scripts/api_load.py): native threads, not Python's, beside the service.
        def path_of(query: dict) -> str:
            return f"/v1/workspaces/{ws}/kpis?{urlencode(query)}"

        warm_q = {"grain": "campaign", "from": (last - timedelta(days=27)).isoformat(), "to": last.isoformat()}
        rows = len(http.get(path, params=warm_q, headers=headers, timeout=60).json()["rows"])  # and the cache is warm
        warm = api_load.run(url, token, [path_of(warm_q)], connections=clients, seconds=seconds)
        # Cold: every request a range never asked before (28 to 34 days ending on any of the last 600 days).
        cold_paths = [
            path_of({"grain": "campaign", "from": (last - timedelta(days=back + length - 1)).isoformat(), "to": (last - timedelta(days=back)).isoformat()})
            for back in range(1, 601)
            for length in range(28, 35)
        ]  # fmt: skip
        cold = api_load.run(url, token, cold_paths, connections=clients, seconds=max(1, seconds // 2))
        return {
            "api_p95_ms_kpis": warm["p95_ms"],
            "api_p50_ms_kpis": warm["p50_ms"],
            "api_p99_ms_kpis": warm["p99_ms"],
            "api_requests_per_s_kpis": warm["requests_per_s"],
            "api_cold_p95_ms_kpis": cold["p95_ms"],
            "api_cold_requests_per_s_kpis": cold["requests_per_s"],
            "api_clients": clients,
            "api_rows_per_response": rows,
        }
    finally:
        proc.terminate()
        proc.wait(timeout=15)


def figure_full_build(cluster: Cluster, campaigns: int, days: int, platforms: tuple[str, ...]) -> dict:
    """Figure 4 at a chosen size: sync `campaigns` campaigns x `days` days, then the full build."""
    accounts = max(len(platforms), campaigns // 50)
    size = WorldSize(workspaces=max(1, accounts // 4), accounts=accounts, campaigns=max(1, campaigns // accounts), days=days, platforms=platforms)
    world = bench_world(size)
    log(f"full build: syncing {size.accounts} accounts x {size.campaigns} campaigns x {days} days")
    wh, stats = history_warehouse(cluster, world, size, days, "full_build")
    env = wh.env("http://127.0.0.1:9", new_credentials(), stats["registry"])
    full = run_dbt(["build", "--full-refresh", *BUILD_ARGS], env, wh.home / "full", sample_memory_of=cluster)
    log(f"full build: {stats['rows']} campaign-days in {full['seconds']} s")
    return {
        "full_build_seconds": full["seconds"],
        "full_build_peak_mb": full.get("peak_dbt_mb"),
        "full_build_postgres_peak_mb": full.get("peak_postgres_mb"),
        "full_build_campaign_days": stats["rows"],
        "full_build_campaigns": size.accounts * size.campaigns,
        "full_build_platforms": len(platforms),
        "full_build_statuses": full["statuses"],
        "full_build_sync_seconds": stats["extract_seconds"] + stats["load_seconds"],
        "full_build_slowest_nodes": dict(sorted(full["nodes"].items(), key=lambda kv: -kv[1])[:8]),
    }


# -- figure 3: extraction under latency and a rate limit -----------------------------------------


def figure_extract(cluster: Cluster, accounts: int, latency: float, rate_limit: int, concurrency: int = 4, accounts_at_once: int = 8) -> dict:
    """Extract `accounts` Meta accounts (initial sync) through a sandbox with latency and a rate limit.

    Bound: every page has to wait for its rate-limit slot and for its latency, so extracting P
    pages takes at least max(P / rate, P * latency / concurrency) + latency seconds. The client is
    paced by ADS_ELT_META_MIN_INTERVAL (PACING_MARGIN x 1 / rate: the sandbox counts arrivals, and on
    a loaded machine a request can reach it later than its slot while the next one is on time)
    and ADS_ELT_META_MAX_CONCURRENCY (requests in flight); `accounts_at_once` accounts are extracted
    at a time (the DAG's ADS_ELT_EXTRACT_CONCURRENCY), more than the requests in flight, so an account's
    own work (its sync state, its lake files) never leaves the rate limit unused.

    The sandbox computes every account's rows (all three insight levels) before the clock starts:
    generating the world is the fake's own CPU (about 0.7 s an account), which a real platform does
    not add to its latency, and on 2 cores it would otherwise stall every request in flight.
    """
    from ads_elt.ingestion import pipeline
    from sandbox.platforms.meta import LEVELS as META_LEVELS

    size = WorldSize(workspaces=max(1, accounts // 4), accounts=accounts, campaigns=20, days=90, platforms=("meta",))
    world = bench_world(size)
    home = OUT / "work" / "extract"
    wh = Warehouse.create(cluster, home, "bench_extract")
    registry = write_registry(world, home / "registry.yml", history_days=size.days)
    limits = {
        "ADS_ELT_META_MIN_INTERVAL": f"{PACING_MARGIN / rate_limit:.4f}",
        "ADS_ELT_META_MAX_CONCURRENCY": str(concurrency),
        "ADS_ELT_RATE_LIMIT_DIR": str(home / "rate-limits"),  # the spacing shared as Airflow's worker processes share it
    }
    levels = tuple(dict.fromkeys(META_LEVELS.values()))
    page_cache = 64 + accounts * len(levels)
    with sandbox_process(world, END_DATE + timedelta(days=1), latency=latency, rate_limit=rate_limit, rate_window=1.0, page_cache=page_cache) as server:
        with environ({**wh.env(server["url"], server["credentials"], registry), **limits}):
            reset_request_gates()
            run_id = f"bench_extract__{uuid.uuid4().hex[:6]}"
            pipeline.prepare(END_DATE)
            scopes = pipeline.plan("meta", END_DATE, run_id)
            prepared = server["prepare"](
                [("meta", s.account_id, s.window_start, s.window_end, levels) for s in scopes]
            )
            t0 = time.perf_counter()
            with ThreadPoolExecutor(max_workers=accounts_at_once) as pool:
                batches = list(pool.map(pipeline.extract, scopes))
            seconds = time.perf_counter() - t0
            reset_request_gates()
    stats = server["stats"].get("meta", {})
    pages = sum(len(json.loads((Path(b["uri"].removeprefix("file://")) / "manifest.json").read_text())["pages"]) for b in batches)
    requests = stats.get("requests", 0)
    bound = max(requests / rate_limit, requests * latency / concurrency) + latency
    return {
        "extract_vs_bound": round(seconds / bound, 3),
        "rate_limit_violations": stats.get("rate_limit_violations", 0),
        "extract_seconds": round(seconds, 3),
        "extract_bound_seconds": round(bound, 3),
        "extract_accounts": len(scopes),
        "extract_pages": pages,
        "extract_requests": requests,
        "extract_records": sum(b["records"] for b in batches),
        "extract_rows_prepared": prepared,
        "extract_latency_seconds": latency,
        "extract_rate_limit_per_second": rate_limit,
        "extract_concurrency": concurrency,
        "extract_accounts_at_once": accounts_at_once,
        "extract_max_in_flight": stats.get("max_in_flight"),
    }


# -- figure 5: DAG parse time with 1,000 accounts ---------------------------------------------

PARSE_PROBE = r"""
import json, os, time
from airflow.models.dagbag import DagBag
DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"])  # warm: imports, manifest
times = []
for _ in range(5):
    t0 = time.perf_counter()
    bag = DagBag(dag_folder=os.environ["AIRFLOW__CORE__DAGS_FOLDER"] + "/ads_daily.py")
    times.append(time.perf_counter() - t0)
assert "ads_daily" in bag.dags, bag.import_errors
print("@@" + json.dumps({"seconds": times, "tasks": len(bag.dags["ads_daily"].tasks)}))
"""


def figure_stream(cluster: Cluster, days: int = 4, batch_size: int = 10) -> dict:
    """Marketing Stream: messages drained and committed per second from the local queue (moto's server), at
    batches of `batch_size`, and the landing rate against `\\copy` of the same rows into tables of the same shape."""
    import psycopg2
    from stack import sqs_client, start_sqs

    from ads_elt.ingestion.marketing_stream import StreamQueue, drain
    from ads_elt.warehouse import ensure_schema
    from sandbox.platforms.amazon_ads import advertiser_id
    from sandbox.platforms.amazon_ads_stream import StreamPublisher, ensure_queues, publish
    from sandbox.world import World

    home = OUT / "work" / "stream"
    wh = Warehouse.create(cluster, home, "bench_stream")
    world = World.demo(END_DATE)
    bodies = StreamPublisher(world).bodies(END_DATE - timedelta(days=days - 1), END_DATE, END_DATE + timedelta(days=3), faults=False, confirm=False)
    proc, url = start_sqs(home / "sqs")
    try:
        sqs = sqs_client(url)
        queue_url, dlq_url = ensure_queues(sqs, "bench-stream")
        t0 = time.perf_counter()
        publish(sqs, queue_url, bodies)
        publish_s = time.perf_counter() - t0
        conn = psycopg2.connect(wh.dsn)
        ensure_schema(conn)
        profiles = {advertiser_id(a.account_id): (a.workspace_id, a.account_id) for a in world.accounts_for("amazon_ads")}
        queue = StreamQueue(queue_url, dlq_url, endpoint_url=url, access_key_id="local", secret_access_key="local")
        t0 = time.perf_counter()
        summary = drain(sqs, queue, conn, profiles, "bench", batch_size=batch_size)
        drain_s = time.perf_counter() - t0
        conn.close()
    finally:
        proc.terminate()
        proc.wait(timeout=15)
    tables = ["amazon_stream__sp_traffic", "amazon_stream__sp_conversion"]
    env = {**os.environ, "PGPASSWORD": cluster.password}
    psql = [shutil.which("psql") or "psql", "-X", "-q", "-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres", "-d", wh.dbname]
    commands = []
    for table in tables:
        csv_path = home / f"{table}.csv"
        subprocess.run([*psql, "-c", f"\\copy raw.{table} to '{csv_path}' with (format csv)"], env=env, check=True)
        wh.query(f"create table public.copy_{table} (like raw.{table} including all)")
        commands += ["-c", f"\\copy public.copy_{table} from '{csv_path}' with (format csv)"]
    settle(wh)
    t0 = time.perf_counter()
    subprocess.run([*psql, *commands], env=env, check=True)
    copy_s = time.perf_counter() - t0
    rows = summary["records"]
    return {
        "stream_msgs_per_s": round(summary["messages"] / drain_s, 1),
        "stream_batch_size": batch_size,
        "stream_messages": summary["messages"],
        "stream_rows": rows,
        "stream_drain_seconds": round(drain_s, 2),
        "stream_publish_seconds": round(publish_s, 2),
        "stream_copy_rows_per_second": round(rows / copy_s),
        "stream_vs_copy": round((rows / drain_s) / (rows / copy_s), 4),
        "stream_note": "the queue is moto's server, whose every receive recounts the whole queue: most of the drain's time is the "
        "local SQS, not the landing (docs/stream.md)",
    }


def figure_dag_parse(accounts: int = 1000) -> dict:
    from ads_elt.registry import load_registry

    size = WorldSize(workspaces=accounts // 5, accounts=accounts, campaigns=1, days=1, platforms=tuple(PLATFORM_LOOKBACK))
    home = OUT / "work" / "dag_parse"
    registry = write_registry(bench_world(size), home / "registry.yml", history_days=90)
    t0 = time.perf_counter()
    with environ({"ADS_ELT_REGISTRY": str(registry)}):
        n_accounts = len(load_registry().accounts())
    registry_seconds = time.perf_counter() - t0
    env = {**os.environ, **airflow_env(home / "airflow", home / "lake"), "ADS_ELT_REGISTRY": str(registry)}
    ensure_manifest(env)
    proc = subprocess.run([sys.executable, "-c", PARSE_PROBE], env=env, cwd=REPO, capture_output=True, text=True)
    line = [x for x in proc.stdout.splitlines() if x.startswith("@@")]
    if not line:
        raise RuntimeError(f"DAG parse probe failed: {proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    probe = json.loads(line[-1][2:])
    return {
        "dag_parse_seconds_1000_accounts": round(statistics.median(probe["seconds"]), 4),
        "dag_parse_seconds_all": [round(s, 4) for s in probe["seconds"]],
        "dag_parse_registry_accounts": n_accounts,
        "dag_parse_tasks": probe["tasks"],
        "registry_validation_seconds_1000_accounts": round(registry_seconds, 4),
    }


# -- the report --------------------------------------------------------------------------------


def machine() -> dict:
    import psutil

    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    pg = subprocess.run([shutil.which("psql") or "psql", "--version"], capture_output=True, text=True).stdout.strip()
    dbt = subprocess.run([venv_bin("dbt"), "--version"], capture_output=True, text=True).stdout
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 1024**3, 1),
        "os": host_platform.platform(),
        "python": host_platform.python_version(),
        "postgres": pg,
        "dbt": next((line.strip() for line in dbt.splitlines() if "installed" in line.lower()), dbt.strip()[:60]),
    }


def verdicts(report: dict) -> dict:
    out = {}
    for key, (op, target) in TARGETS.items():
        value = report.get(key)
        if value is None:
            continue
        ok = {">=": value >= target, "<=": value <= target, "<": value < target, "==": value == target}[op]
        out[key] = {"value": value, "target": f"{op} {target}", "met": ok}
    return out


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [
        "# Benchmark report",
        "",
        f"`{report['command']}` on {report['finished_at']}, {report['seconds']:.0f} s in all.",
        "",
        f"Machine: {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB; {m['os']}; Python {m['python']}; {m['postgres']}; dbt {m['dbt']}.",
        "",
        "| figure | value | target | met |",
        "| --- | --- | --- | --- |",
    ]
    for key, v in report["verdicts"].items():
        lines.append(f"| `{key}` | {v['value']} | {v['target']} | {'yes' if v['met'] else 'NO'} |")
    if "full_build_seconds" in report:
        lines.append(
            f"| `full_build_seconds` / `full_build_peak_mb` | {report['full_build_seconds']} s / dbt {report['full_build_peak_mb']} MB, "
            f"Postgres {report.get('full_build_postgres_peak_mb')} MB | reported | - |"
        )
    lines += ["", "## Raw figures", "", "```json", json.dumps({k: v for k, v in report.items() if k not in ("verdicts",)}, indent=2), "```", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    global OUT
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workspaces", type=int, default=4, help="workspaces in the transform world (default %(default)s)")
    ap.add_argument("--accounts", type=int, default=8, help="accounts in the transform world (default %(default)s)")
    ap.add_argument("--campaigns", type=int, default=5, help="campaigns per account (default %(default)s)")
    ap.add_argument("--days", type=int, default=730, help="long history in days (default %(default)s; the short one is 90)")
    ap.add_argument("--platforms", default=",".join(WorldSize.platforms), help="platforms of the world (default %(default)s)")
    ap.add_argument("--daily-runs", type=int, default=2, help="daily runs timed per history (the fastest counts; default %(default)s)")
    ap.add_argument("--load-rows", type=int, default=100_000, help="rows in the load figure's batch (default %(default)s)")
    ap.add_argument("--extract-accounts", type=int, default=24, help="accounts in the extraction figure (default %(default)s)")
    ap.add_argument("--latency-ms", type=float, default=150, help="sandbox latency per page (default %(default)s)")
    ap.add_argument("--rate-limit", type=int, default=10, help="sandbox requests per second per platform (default %(default)s)")
    ap.add_argument(
        "--full-build-campaigns", type=int, default=0,
        help="figure 4 on its own world of this many campaigns x --days (2000 = the full 1.5M campaign-days); "
        "0 (default): the transform figure's 730-day world",
    )  # fmt: skip
    ap.add_argument("--only", default=",".join(FIGURES), help=f"comma-separated figures to run (of {', '.join(FIGURES)})")
    ap.add_argument(
        "--out", type=Path, default=OUT,
        help="where the report, the work files and the private cluster go (default %(default)s)",
    )  # fmt: skip
    args = ap.parse_args(argv)
    OUT = args.out.resolve()  # the work files and the private cluster live next to the report: two runs can go side by side
    only = set(args.only.split(","))
    unknown = only - set(FIGURES)
    if unknown:
        ap.error(f"unknown figures {sorted(unknown)}")
    os.environ.setdefault("AIRFLOW__COSMOS__ENABLE_TELEMETRY", "False")
    os.environ.setdefault("ADS_ELT_RETRY_DELAY_SECONDS", "1")
    platforms = tuple(p for p in args.platforms.split(",") if p)
    size = WorldSize(args.workspaces, args.accounts, args.campaigns, args.days, platforms)

    started = time.perf_counter()
    shutil.rmtree(OUT / "work", ignore_errors=True)
    (OUT / "work").mkdir(parents=True, exist_ok=True)
    cluster = Cluster(OUT / "pg")
    cluster.destroy()
    cluster.start()
    report: dict = {"command": "python scripts/bench.py " + " ".join(argv if argv is not None else sys.argv[1:]), "size": asdict(size)}
    report["command"] = report["command"].strip()
    try:
        steps = [
            ("dag_parse", "figure 5: DAG parse with a registry of 1,000 accounts", figure_dag_parse),
            ("stream", "figure 7: Marketing Stream drained from the local SQS against \\copy", lambda: figure_stream(cluster)),
            ("load", f"figure 1: loader against \\copy ({args.load_rows} rows)", lambda: figure_load(cluster, args.load_rows)),
            (
                "extract",
                f"figure 3: extraction of {args.extract_accounts} accounts, {args.latency_ms:.0f} ms per page, {args.rate_limit}/s",
                lambda: figure_extract(cluster, args.extract_accounts, args.latency_ms / 1000, args.rate_limit),
            ),
        ]
        if "transform" in only or ("full_build" in only and not args.full_build_campaigns):
            steps.append(
                (
                    "transform",
                    f"figures 2 and 4: daily transform on {args.days} against 90 days ({size.campaign_days} campaign-days)",
                    lambda: figure_transform(cluster, size, args.daily_runs),
                )
            )
        if "full_build" in only and args.full_build_campaigns:
            steps.append(
                ("full_build", "figure 4 at its own size", lambda: figure_full_build(cluster, args.full_build_campaigns, args.days, platforms))
            )
        for name, title, run in steps:
            if name not in only and name != "transform":
                continue
            log(title)
            try:
                report.update(run())
            except Exception as exc:  # one figure failing still leaves the others' figures in the report
                log(f"{name} failed: {type(exc).__name__}: {exc}")
                report.setdefault("errors", {})[name] = f"{type(exc).__name__}: {exc}"[:2000]
    finally:
        cluster.destroy()
    report["seconds"] = round(time.perf_counter() - started, 1)
    report["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    report["machine"] = machine()
    report["verdicts"] = verdicts(report)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "report.json").write_text(json.dumps(report, indent=2, default=str))
    (args.out / "report.md").write_text(markdown(report))
    print(markdown(report).split("## Raw figures")[0])
    print(f"report: {args.out / 'report.json'} and {args.out / 'report.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
