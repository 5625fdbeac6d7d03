"""The daily DAG on a real multi-worker Airflow: CeleryExecutor, a local Redis broker, two workers.

    python scripts/celery_run.py                  # Celery run, then a LocalExecutor run; compare the marts
    python scripts/celery_run.py --workers 3 --history-days 30

Starts, on loopback and under a temporary directory (all removed afterwards):
a private PostgreSQL cluster (Airflow metadata in its own database, one
warehouse per run), `redis-server` as the Celery broker, the sandbox APIs,
then the Airflow 3 components: `airflow api-server` (the execution API the
workers call), `airflow dag-processor`, `airflow scheduler`, and N
`airflow celery worker` processes with distinct Celery hostnames, each
recording its own name on the task instances it runs. It unpauses and
triggers `ads_daily`, waits for the run, and reports which worker ran each
mapped extract. The same DAG is then run by a LocalExecutor scheduler into a
second warehouse, and the marts of the two runs are compared.

`docker-compose.yaml` is the same CeleryExecutor layout for a server. Exit
status: 0 when both runs succeeded, the extracts spread over every worker and
the marts are identical.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
for _p in (REPO, REPO / "plugins", REPO / "scripts"):
    if str(_p) not in sys.path:
        sys.path.insert(0, str(_p))

from localpg import Cluster  # noqa: E402
from stack import airflow_env, connections_env, dbt_cli_env, ensure_manifest, free_port, new_credentials, venv_bin  # noqa: E402

REPORT_DATE = date(2026, 11, 20)
MARTS = {
    "marts.fct_ad_performance_daily": "date_day, workspace_id, platform, account_id, campaign_id",
    "marts.mart_campaign_kpis_daily": "date_day, workspace_id, platform, account_id, campaign_id",
    "marts.mart_anomalies": "date_day, workspace_id, platform, account_id, campaign_id, metric",
}


def log(message: str) -> None:
    print(f"[celery-run {datetime.now():%H:%M:%S}] {message}", flush=True)


def worker_hostname() -> str:
    """Task instances' `hostname` (AIRFLOW__CORE__HOSTNAME_CALLABLE): the machine plus this worker's name."""
    name = os.environ.get("ADS_ELT_WORKER_NAME")
    return f"{socket.getfqdn()}:{name}" if name else socket.getfqdn()


class Processes:
    """Long-running processes started here, each in its own session; stopped (and their children) on exit."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.procs: list[tuple[str, subprocess.Popen]] = []

    def start(self, name: str, cmd: list[str], env: dict[str, str]) -> subprocess.Popen:
        out = open(self.log_dir / f"{name}.log", "ab")
        proc = subprocess.Popen(cmd, env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def check(self) -> None:
        for name, proc in self.procs:
            if proc.poll() is not None:
                tail = (self.log_dir / f"{name}.log").read_text(errors="replace")[-3000:]
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{tail}")

    def stop(self, names: set[str] | None = None, grace: float = 30.0) -> None:
        """SIGTERM to each chosen process's session, SIGKILL to what is still running `grace` seconds later."""
        chosen = [(n, p) for n, p in self.procs if names is None or n in names]
        for _, proc in chosen:
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)  # the session this process leads: it and its children
        deadline = time.monotonic() + grace
        for _, proc in chosen:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=10)
        self.procs = [(n, p) for n, p in self.procs if (n, p) not in chosen]


def wait_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return
        time.sleep(0.2)
    raise TimeoutError(f"nothing listens on 127.0.0.1:{port}")


def registry_yaml(world, path: Path, history_days: int) -> Path:
    """The demo world's Meta and Google Ads accounts (four mapped extracts)."""
    import yaml

    workspaces: dict[str, dict] = {}
    for account in world.accounts:
        if account.platform not in ("meta", "google_ads"):
            continue
        ws = workspaces.setdefault(
            account.workspace_id,
            {"id": account.workspace_id, "name": account.workspace_id, "currency": account.currency, "timezone": account.timezone, "accounts": []},
        )
        ws["accounts"].append({"platform": account.platform, "account_id": account.account_id, "connection": f"{account.platform}_default"})
    doc = {"version": 1, "defaults": {"initial_history_days": history_days}, "workspaces": list(workspaces.values())}
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@dataclass
class RunResult:
    executor: str
    state: str
    seconds: float
    extract_hosts: dict[str, str] = field(default_factory=dict)  # "<task_id>[<map_index>]" -> hostname
    task_states: dict[str, int] = field(default_factory=dict)
    marts: dict[str, list] = field(default_factory=dict)


class Harness:
    def __init__(self, root: Path, history_days: int = 21, world=None, registry: Path | None = None) -> None:
        from sandbox.world import World

        self.root = root
        self.logs = root / "logs"
        self.logs.mkdir(parents=True, exist_ok=True)
        self.cluster = Cluster(root / "pg")
        self.world = world or World.demo(REPORT_DATE, history_days=max(history_days, 30))
        self.history_days = history_days
        self.given_registry = registry
        self.procs = Processes(self.logs)
        self.sandbox = None
        self.creds = new_credentials()

    # -- shared services -------------------------------------------------------------------
    def start_shared(self) -> None:
        from sandbox.server import SandboxServer

        self.cluster.start()
        self.redis_port = free_port()
        redis = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.procs.start(
            "redis",
            [redis, "--port", str(self.redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--protected-mode", "yes"],
            dict(os.environ),
        )
        wait_port(self.redis_port)
        # A little latency per page keeps each extract busy long enough for both workers to pick some up.
        self.sandbox = SandboxServer(self.world, credentials=self.creds, today=REPORT_DATE + timedelta(days=1), latency=0.3)
        self.sandbox.start()
        self.registry = self.given_registry or registry_yaml(self.world, self.root / "registry.yml", self.history_days)
        ensure_manifest({"DBT_PORT": str(self.cluster.port)})

    def create_database(self, name: str) -> str:
        import psycopg2

        conn = psycopg2.connect(self.cluster.dsn("postgres"))
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'drop database if exists "{name}"')
            cur.execute(f'create database "{name}"')
        conn.close()
        return name

    def env(self, executor: str, meta_db: str, warehouse_db: str, api_port: int, home: Path) -> dict[str, str]:
        pg = f"postgres:{self.cluster.password}@127.0.0.1:{self.cluster.port}"
        env = {**os.environ, **airflow_env(home, home / "lake")}
        env.update(connections_env(self.cluster.port, self.cluster.password, warehouse_db, self.sandbox.url, self.creds))
        env.update(dbt_cli_env(self.cluster.port, self.cluster.password, warehouse_db))
        env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "plugins"), str(REPO / "scripts")])
        env.update(
            {
                "ADS_ELT_REGISTRY": str(self.registry),
                "ADS_ELT_RETRY_DELAY_SECONDS": "5",
                "AIRFLOW__CORE__EXECUTOR": executor,
                "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://{pg}/{meta_db}",
                "AIRFLOW__CELERY__BROKER_URL": f"redis://127.0.0.1:{self.redis_port}/0",
                "AIRFLOW__CELERY__RESULT_BACKEND": f"db+postgresql://{pg}/{meta_db}",
                "AIRFLOW__CELERY__WORKER_CONCURRENCY": "1",
                "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{api_port}/execution/",
                "AIRFLOW__CORE__HOSTNAME_CALLABLE": "celery_run.worker_hostname",
                "AIRFLOW__CORE__PARALLELISM": "4",
                "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "True",
                "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
                "AIRFLOW__API_AUTH__JWT_SECRET": self.jwt_secret,
                "AIRFLOW__API__SECRET_KEY": self.jwt_secret,
                "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
                "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
                "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # only the run triggered here, no scheduled one
                "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
                "AIRFLOW__LOCAL_EXECUTOR__PARALLELISM": "2",
            }
        )
        return env

    jwt_secret = secrets.token_urlsafe(32)

    # -- one run -----------------------------------------------------------------------------
    def run(self, executor: str, workers: int, timeout: float) -> RunResult:
        tag = executor.lower().replace("executor", "")
        meta_db = self.create_database(f"airflow_{tag}")
        warehouse_db = self.create_database(f"warehouse_{tag}")
        api_port = free_port()
        home = self.root / f"airflow_{tag}"
        home.mkdir(parents=True, exist_ok=True)
        env = self.env(executor, meta_db, warehouse_db, api_port, home)
        airflow = venv_bin("airflow")
        log(f"{executor}: migrating the metadata database {meta_db}")
        subprocess.run([airflow, "db", "migrate"], env=env, cwd=REPO, check=True, capture_output=True)
        names = {f"{tag}-api-server", f"{tag}-dag-processor", f"{tag}-scheduler"}
        self.procs.start(f"{tag}-api-server", [airflow, "api-server", "-H", "127.0.0.1", "-p", str(api_port), "-w", "1"], env)
        self.procs.start(f"{tag}-dag-processor", [airflow, "dag-processor"], env)
        self.procs.start(f"{tag}-scheduler", [airflow, "scheduler"], env)
        if executor == "CeleryExecutor":
            for n in range(1, workers + 1):
                name = f"{tag}-worker-{n}"
                names.add(name)
                self.procs.start(
                    name,
                    [airflow, "celery", "worker", "--celery-hostname", f"worker{n}@%h", "--concurrency", "1", "--skip-serve-logs"],
                    {**env, "ADS_ELT_WORKER_NAME": f"worker{n}"},
                )
        try:
            wait_port(api_port, timeout=120)
            self._wait_for_dag(meta_db, timeout=180)
            if executor == "CeleryExecutor":
                self._wait_for_workers(workers, timeout=180)
            logical = datetime.combine(REPORT_DATE + timedelta(days=1), datetime.min.time()).isoformat() + "+00:00"
            subprocess.run([airflow, "dags", "unpause", "ads_daily"], env=env, cwd=REPO, check=True, capture_output=True)
            t0 = time.monotonic()
            run_id = f"{tag}__{REPORT_DATE}"
            trigger = subprocess.run(
                [airflow, "dags", "trigger", "ads_daily", "--logical-date", logical, "--run-id", run_id],
                env=env, cwd=REPO, capture_output=True, text=True,
            )  # fmt: skip
            if trigger.returncode != 0:
                raise RuntimeError(f"airflow dags trigger failed: {trigger.stdout[-2000:]}{trigger.stderr[-2000:]}")
            log(f"{executor}: ads_daily triggered for {logical}")
            state = self._wait_for_run(meta_db, run_id, timeout, t0)
            result = RunResult(executor, state, round(time.monotonic() - t0, 1))
            result.extract_hosts, result.task_states = self._task_instances(meta_db, run_id)
            result.marts = self._marts(warehouse_db)
            log(f"{executor}: run {state} in {result.seconds} s; extracts: {result.extract_hosts}")
            return result
        finally:
            self.procs.stop(names, grace=5)  # a throwaway Airflow: its scheduler can take 30 s to stop

    def _meta_query(self, meta_db: str, sql: str) -> list[tuple]:
        import psycopg2

        conn = psycopg2.connect(self.cluster.dsn(meta_db))
        try:
            with conn.cursor() as cur:
                cur.execute(sql)
                return cur.fetchall()
        finally:
            conn.close()

    def _wait_for_dag(self, meta_db: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.procs.check()
            with contextlib.suppress(Exception):
                if self._meta_query(meta_db, "select 1 from serialized_dag where dag_id = 'ads_daily'"):
                    return
            time.sleep(2)
        raise TimeoutError("the dag-processor did not serialise ads_daily")

    def _wait_for_workers(self, workers: int, timeout: float) -> None:
        """Every worker answers a broker ping before the run is triggered: one still starting would see no task."""
        from celery import Celery

        app = Celery(broker=f"redis://127.0.0.1:{self.redis_port}/0")
        wanted = {f"worker{n}" for n in range(1, workers + 1)}
        deadline = time.monotonic() + timeout
        ready: set[str] = set()
        try:
            while time.monotonic() < deadline:
                self.procs.check()
                with contextlib.suppress(Exception):
                    ready = {name.split("@", 1)[0] for reply in app.control.ping(timeout=2.0) for name in reply}
                if wanted <= ready:
                    log(f"workers ready: {', '.join(sorted(ready))}")
                    return
                time.sleep(1)
        finally:
            app.close()
        raise TimeoutError(f"Celery workers not ready after {timeout:.0f} s: {', '.join(sorted(wanted - ready))} did not answer")

    def _wait_for_run(self, meta_db: str, run_id: str, timeout: float, t0: float) -> str:
        last = None
        while time.monotonic() - t0 < timeout:
            self.procs.check()
            rows = self._meta_query(meta_db, f"select state from dag_run where dag_id = 'ads_daily' and run_id = '{run_id}'")
            state = rows[0][0] if rows else None
            if state != last:
                log(f"dag run state: {state}")
                last = state
            if state in ("success", "failed"):
                return state
            time.sleep(3)
        raise TimeoutError(f"ads_daily did not finish within {timeout:.0f} s (last state {last})")

    def _task_instances(self, meta_db: str, run_id: str) -> tuple[dict[str, str], dict[str, int]]:
        rows = self._meta_query(
            meta_db, f"select task_id, map_index, hostname, state from task_instance where dag_id = 'ads_daily' and run_id = '{run_id}'"
        )
        hosts = {f"{t}[{m}]": h for t, m, h, _ in rows if t.endswith(".extract") and m >= 0}
        states: dict[str, int] = {}
        for *_, s in rows:
            states[str(s)] = states.get(str(s), 0) + 1
        return hosts, states

    def _marts(self, warehouse_db: str) -> dict[str, list]:
        return read_marts(self.cluster.dsn(warehouse_db))

    def stop(self) -> None:
        self.procs.stop()
        if self.sandbox is not None:
            self.sandbox.stop()
        self.cluster.destroy()


def read_marts(dsn: str) -> dict[str, list]:
    """The compared marts of a warehouse, every row as text, in key order."""
    import psycopg2

    conn = psycopg2.connect(dsn)
    out = {}
    try:
        with conn.cursor() as cur:
            for table, order in MARTS.items():
                cur.execute(f"select * from {table} order by {order}")
                out[table] = [tuple(str(v) for v in row) for row in cur.fetchall()]
    finally:
        conn.close()
    return out


@contextlib.contextmanager
def harness(root: Path | None = None, history_days: int = 21, world=None, registry: Path | None = None) -> Iterator[Harness]:
    """Shared services for runs (own Postgres, Redis, sandbox); `world` and `registry` default to the demo's Meta and Google Ads."""
    own = root is None
    root = Path(tempfile.mkdtemp(prefix="ads-elt-celery-")) if own else root
    h = Harness(root, history_days, world, registry)
    try:
        h.start_shared()
        yield h
    finally:
        h.stop()
        if own:
            shutil.rmtree(root, ignore_errors=True)


def compare(celery: RunResult, local: RunResult, workers: int) -> dict:
    used = sorted({h.rsplit(":", 1)[-1] for h in celery.extract_hosts.values() if h})
    differing = [t for t in MARTS if celery.marts.get(t) != local.marts.get(t)]
    first_differences = {}
    for t in differing:
        a, b = celery.marts.get(t, []), local.marts.get(t, [])
        i = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
        first_differences[t] = {"rows": [len(a), len(b)], "index": i, "celery": a[i] if i < len(a) else None, "local": b[i] if i < len(b) else None}
    return {
        "celery_state": celery.state,
        "local_state": local.state,
        "celery_seconds": celery.seconds,
        "local_seconds": local.seconds,
        "extracts": celery.extract_hosts,
        "workers_used_by_extracts": used,
        "extracts_spread_over_all_workers": len(used) == workers,
        "mart_rows": {t: len(rows) for t, rows in celery.marts.items()},
        "marts_identical": not differing,
        "marts_differing": differing,
        "first_differences": first_differences,
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workers", type=int, default=2, help="Celery workers (default %(default)s)")
    ap.add_argument("--history-days", type=int, default=21, help="initial history per account (default %(default)s)")
    ap.add_argument("--timeout", type=float, default=900, help="seconds to wait for each run (default %(default)s)")
    ap.add_argument("--keep", type=Path, default=None, help="work in this folder and keep its logs")
    args = ap.parse_args(argv)
    if args.keep:
        args.keep.mkdir(parents=True, exist_ok=True)
    with harness(args.keep, args.history_days) as h:
        celery = h.run("CeleryExecutor", args.workers, args.timeout)
        local = h.run("LocalExecutor", 0, args.timeout)
    summary = compare(celery, local, args.workers)
    print(json.dumps(summary, indent=2))
    ok = summary["celery_state"] == summary["local_state"] == "success" and summary["extracts_spread_over_all_workers"] and summary["marts_identical"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
