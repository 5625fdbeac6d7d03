"""The embedded local stack: project-local Postgres, sandbox APIs, Airflow on SQLite.

    python scripts/stack.py up   [--date YYYY-MM-DD]   start Postgres + sandbox, write .local/env.sh
    python scripts/stack.py demo [--date YYYY-MM-DD]   up, then run ads_daily through `airflow dags test` and report
    python scripts/stack.py api                        start the reporting service (api/) on the demo's warehouse
    python scripts/stack.py down                       stop what `up` and `api` started (data is kept)
    python scripts/stack.py env                        print the environment (sourceable)

Everything lives in the ignored `.local/` folder. Credentials for the sandbox
are generated once into `.local/sandbox/credentials.json` (mode 600) and reach
Airflow only as Connections (AIRFLOW_CONN_* variables), never as arguments.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
LOCAL = REPO / ".local"
# Run as a script (make demo), only scripts/ is on the path: the sandbox, the adapters and ads_elt are the repo's.
sys.path[:0] = [str(REPO / "scripts"), str(REPO), str(REPO / "plugins")]

from localpg import Cluster  # noqa: E402

DEFAULT_DATE = "2026-11-20"
WAREHOUSE_DB = "warehouse"


def venv_bin(name: str) -> str:
    return str(Path(sys.executable).with_name(name))


def new_credentials() -> dict:
    """Random credentials for every platform the sandbox serves (sandbox.platforms) and for the services."""
    from sandbox.platforms import new_credentials as platform_credentials

    return {**platform_credentials(), **new_service_credentials()}


def new_service_credentials() -> dict:
    """The reporting service's link-signing key and the Airflow API user it triggers syncs as."""
    return {
        "reporting_api": {"signing_key": secrets.token_urlsafe(32)},
        "airflow_api": {"username": "admin", "password": secrets.token_urlsafe(18)},
    }


def connections_env(
    pg_port: int, pg_password: str, dbname: str, sandbox_url: str, creds: dict, report_poll_seconds: float = 2.0
) -> dict[str, str]:
    """Airflow Connections for the warehouse and each platform, as AIRFLOW_CONN_* JSON values."""
    return {
        "AIRFLOW_CONN_WAREHOUSE": json.dumps(
            {
                "conn_type": "postgres",
                "host": "127.0.0.1",
                "port": pg_port,
                "login": "postgres",
                "password": pg_password,
                "schema": dbname,
            }
        ),
        **platform_connections_env(sandbox_url, creds, report_poll_seconds),
        **role_connections_env(pg_port, pg_password, dbname),
        **service_connections_env(creds),
    }


# moto's server gives every queue this account id in its URL.
SQS_ACCOUNT = "123456789012"
STREAM_QUEUE = "ads-stream"


def stream_connection_env(sqs_url: str, queue: str = STREAM_QUEUE) -> dict[str, str]:
    """The `amazon_stream` Connection: Marketing Stream's queue and dead-letter queue on the local SQS (moto)."""
    return {
        "AIRFLOW_CONN_AMAZON_STREAM": json.dumps(
            {
                "conn_type": "aws",
                "login": "local",
                "password": "local",
                "extra": {
                    "endpoint_url": sqs_url,
                    "region_name": "us-east-1",
                    "queue_url": f"{sqs_url}/{SQS_ACCOUNT}/{queue}",
                    "dead_letter_queue_url": f"{sqs_url}/{SQS_ACCOUNT}/{queue}-dlq",
                    "visibility_timeout": 120,
                },
            }
        )
    }


def start_sqs(directory: Path) -> tuple[subprocess.Popen, str]:
    """moto's server (a local SQS) on a free port, logging to `directory/server.log`; returns the process and its URL."""
    directory.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = open(directory / "server.log", "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        cwd=REPO, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    wait_http(f"{url}/moto-api/", 60, proc, directory / "server.log", "local SQS (moto)")
    return proc, url


def sqs_client(url: str):
    import boto3

    return boto3.client("sqs", endpoint_url=url, region_name="us-east-1", aws_access_key_id="local", aws_secret_access_key="local")


API_PORT = int(os.environ.get("ADS_API_PORT", "8765"))
AIRFLOW_UI_PORT = int(os.environ.get("ADS_AIRFLOW_UI_PORT", "8080"))


def service_connections_env(creds: dict, api_url: str | None = None, airflow_url: str | None = None) -> dict[str, str]:
    """Connections of the reporting service: its URL and signing key, and Airflow's API server (`make ui`)."""
    if "reporting_api" not in creds:
        return {}
    return {
        "AIRFLOW_CONN_REPORTING_API": json.dumps(
            {"conn_type": "http", "host": api_url or f"http://127.0.0.1:{API_PORT}", "password": creds["reporting_api"]["signing_key"]}
        ),
        "AIRFLOW_CONN_AIRFLOW_API": json.dumps(
            {
                "conn_type": "http",
                "host": airflow_url or f"http://127.0.0.1:{AIRFLOW_UI_PORT}",
                "login": creds["airflow_api"]["username"],
                "password": creds["airflow_api"]["password"],
            }
        ),
    }


WAREHOUSE_ROLES = {"loader": "ads_loader", "transformer": "ads_transformer", "analyst": "ads_analyst", "api": "ads_api"}


def role_password(pg_password: str, role: str) -> str:
    """A stable password per warehouse role, derived from the cluster's own (kept in `.local/`)."""
    import hashlib

    return hashlib.sha256(f"{pg_password}|{role}".encode()).hexdigest()[:32]


def role_connections_env(pg_port: int, pg_password: str, dbname: str) -> dict[str, str]:
    """The loader, transformer and analyst roles' Connections (`prepare` creates the roles); dbt runs as the transformer."""
    env = {"ADS_ELT_DBT_CONN_ID": "warehouse_transformer"}
    for role, name in WAREHOUSE_ROLES.items():
        env[f"AIRFLOW_CONN_WAREHOUSE_{role.upper()}"] = json.dumps(
            {
                "conn_type": "postgres",
                "host": "127.0.0.1",
                "port": pg_port,
                "login": name,
                "password": role_password(pg_password, role),
                "schema": dbname,
            }
        )
    return env


def platform_connections_env(sandbox_url: str, creds: dict, report_poll_seconds: float = 2.0) -> dict[str, str]:
    """Each ad platform's default Connection on the sandbox (its module's ``connection``), and the stores'."""
    from sandbox.platforms import connections

    return {
        **{f"AIRFLOW_CONN_{conn_id.upper()}": json.dumps(conn) for conn_id, conn in connections(sandbox_url, creds, report_poll_seconds=report_poll_seconds).items()},
        **store_connections_env(sandbox_url, creds),
    }


def store_connections_env(sandbox_url: str, creds: dict) -> dict[str, str]:
    """One Connection per demo store (config/workspaces.yml), on the sandbox's store APIs."""

    def conn(**fields) -> str:
        return json.dumps({"conn_type": "http", **fields})

    shopify, woo, salla, zid = (creds[p] for p in ("shopify", "woocommerce", "salla", "zid"))
    return {
        "AIRFLOW_CONN_SHOPIFY_NORTHWIND": conn(host=f"{sandbox_url}/shopify/northwind-outdoor", password=shopify["access_token"]),
        "AIRFLOW_CONN_SHOPIFY_HARBOR": conn(host=f"{sandbox_url}/shopify/harbor-tea", password=shopify["access_token"]),
        "AIRFLOW_CONN_WOOCOMMERCE_LUMEN": conn(
            host=f"{sandbox_url}/woocommerce/lumen-home", login=woo["consumer_key"], password=woo["consumer_secret"]
        ),
        "AIRFLOW_CONN_SALLA_SOUQ": conn(host=f"{sandbox_url}/salla/1456832901", password=salla["access_token"]),
        "AIRFLOW_CONN_ZID_SOUQ": conn(
            host=f"{sandbox_url}/zid", password=zid["manager_token"], extra={"authorization": zid["authorization"]}
        ),
    }


def airflow_env(airflow_home: Path, lake_root: Path) -> dict[str, str]:
    return {
        "AIRFLOW_HOME": str(airflow_home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "60",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{airflow_home / 'airflow.db'}",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        # Cosmos keeps dbt's partial-parse cache per Airflow home: two stacks on one machine
        # (the demo and a test run, parallel test workers) never overwrite each other's.
        "AIRFLOW__COSMOS__CACHE_DIR": str(airflow_home / "cosmos"),
        "AIRFLOW__LOGGING__LOGGING_LEVEL": "INFO",
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")]),
        "ADS_ELT_LAKE_ROOT": f"file://{lake_root}",
        "ADS_ELT_FILE_DROP_ROOT": str(lake_root.parent / "inbox"),
        "ADS_ELT_DBT_BIN": venv_bin("dbt"),
        "DBT_PROFILES_DIR": str(REPO / "dbt_project"),
        "NO_PROXY": "127.0.0.1,localhost",
        "no_proxy": "127.0.0.1,localhost",
    }


def dbt_cli_env(pg_port: int, pg_password: str, dbname: str) -> dict[str, str]:
    return {
        "DBT_HOST": "127.0.0.1",
        "DBT_PORT": str(pg_port),
        "DBT_USER": "postgres",
        "DBT_PASSWORD": pg_password,
        "DBT_DBNAME": dbname,
    }


def ensure_database(cluster: Cluster, dbname: str) -> None:
    import psycopg2

    conn = psycopg2.connect(cluster.dsn("postgres"))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("select 1 from pg_database where datname = %s", (dbname,))
        if not cur.fetchone():
            cur.execute(f'create database "{dbname}"')
    conn.close()


def wait_http(url: str, timeout: float = 30.0, proc: subprocess.Popen | None = None, log: Path | None = None, what: str = "sandbox") -> None:
    """Until a local service answers at `url` (never through a proxy); stops early when its process `proc` exits.

    Raises SystemExit naming the service and, with `log`, the end of its log.
    """
    from urllib.request import ProxyHandler, build_opener

    opener = build_opener(ProxyHandler({}))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            break
        try:
            with opener.open(url, timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    state = "stopped at start" if proc is not None and proc.poll() is not None else f"did not answer at {url}"
    tail = f":\n{log.read_text(errors='replace')[-3000:]}" if log is not None and log.exists() else ""
    raise SystemExit(f"the {what} {state}{tail}")


def process_running(pid_file: Path) -> bool:
    """Whether the process whose id `pid_file` holds is alive."""
    try:
        os.kill(int(pid_file.read_text()), 0)
    except (OSError, ValueError):
        return False
    return True


def stop_process(pid_file: Path) -> None:
    """Stop the process of `pid_file` and what it started (its own session, see the Popen calls), then forget it."""
    if process_running(pid_file):
        pid = int(pid_file.read_text())
        os.killpg(pid, signal.SIGTERM)
        for _ in range(50):
            try:
                os.kill(pid, 0)
            except OSError:
                break
            time.sleep(0.1)
    pid_file.unlink(missing_ok=True)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Stack:
    def __init__(self, local: Path = LOCAL):
        self.local = local
        self.pg = Cluster(local / "pg")
        self.sandbox_dir = local / "sandbox"
        self.airflow_home = local / "airflow"
        self.lake = local / "lake"

    # --- sandbox -----------------------------------------------------------
    def credentials(self) -> dict:
        path = self.sandbox_dir / "credentials.json"
        if not path.exists():
            self.sandbox_dir.mkdir(parents=True, exist_ok=True)
            path.touch(mode=0o600)
            path.write_text(json.dumps(new_credentials()))
        creds = json.loads(path.read_text())
        missing = {k: v for k, v in new_credentials().items() if k not in creds}
        if missing:  # credentials written before these platforms existed
            creds.update(missing)
            path.write_text(json.dumps(creds))
        return creds

    def sandbox_running(self) -> bool:
        return process_running(self.sandbox_dir / "pid")

    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{(self.sandbox_dir / 'port').read_text().strip()}"

    def start_sandbox(self, end_date: date) -> str:
        self.credentials()
        if self.sandbox_running():
            self.stop_sandbox()
        port = free_port()
        log = open(self.sandbox_dir / "server.log", "ab")
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "sandbox",
                "serve",
                "--port",
                str(port),
                "--end-date",
                end_date.isoformat(),
                "--credentials-file",
                str(self.sandbox_dir / "credentials.json"),
            ],
            cwd=REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        (self.sandbox_dir / "pid").write_text(str(proc.pid))
        (self.sandbox_dir / "port").write_text(str(port))
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/_sandbox/clock")
        return url

    def stop_sandbox(self) -> None:
        stop_process(self.sandbox_dir / "pid")

    # --- local SQS (Amazon Marketing Stream) ---------------------------------
    @property
    def sqs_dir(self) -> Path:
        return self.local / "sqs"

    def sqs_url(self) -> str | None:
        port = self.sqs_dir / "port"
        return f"http://127.0.0.1:{port.read_text().strip()}" if port.exists() else None

    def start_sqs(self) -> str:
        """The local SQS with the stream's queue and dead-letter queue (restarted if it runs: moto keeps no state)."""
        self.stop_sqs()
        proc, url = start_sqs(self.sqs_dir)
        (self.sqs_dir / "pid").write_text(str(proc.pid))
        (self.sqs_dir / "port").write_text(url.rsplit(":", 1)[1])
        from sandbox.platforms.amazon_ads_stream import ensure_queues

        ensure_queues(sqs_client(url), STREAM_QUEUE)
        return url

    def stop_sqs(self) -> None:
        stop_process(self.sqs_dir / "pid")

    def drop_demo_files(self, end_date: date) -> None:
        """The demo's file-drop export (the world's numbers as a CSV) into the workspace inbox, once."""
        from sandbox.platforms.file_drop import drop_demo_exports
        from sandbox.world import World

        inbox = self.local / "inbox"
        if not inbox.exists():
            world = World.demo(end_date)
            drop_demo_exports(world, inbox, end_date - timedelta(days=89), end_date)

    # --- whole stack -------------------------------------------------------
    def env(self) -> dict[str, str]:
        env = airflow_env(self.airflow_home, self.lake)
        env.update(connections_env(self.pg.port, self.pg.password, WAREHOUSE_DB, self.sandbox_url(), self.credentials()))
        env.update(dbt_cli_env(self.pg.port, self.pg.password, WAREHOUSE_DB))
        if self.sqs_url():
            env.update(stream_connection_env(self.sqs_url()))
        # `make ui` (airflow standalone): its admin logs in with the password the airflow_api Connection holds.
        env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS"] = f"{self.credentials()['airflow_api']['username']}:admin"
        env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"] = str(self.airflow_home / "passwords.json")
        return env

    def write_airflow_passwords(self) -> None:
        creds = self.credentials()["airflow_api"]
        path = self.airflow_home / "passwords.json"
        path.touch(mode=0o600)
        path.write_text(json.dumps({creds["username"]: creds["password"]}))

    # --- reporting service (api/) -------------------------------------------
    @property
    def api_dir(self) -> Path:
        return self.local / "api"

    def api_running(self) -> bool:
        return process_running(self.api_dir / "pid")

    def start_api(self, env: dict[str, str]) -> str:
        """The reporting service on API_PORT (stopped first if it runs); returns its URL."""
        self.stop_api()
        self.api_dir.mkdir(parents=True, exist_ok=True)
        url = f"http://127.0.0.1:{API_PORT}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", API_PORT)) == 0:
                raise SystemExit(f"port {API_PORT} is taken: stop what uses it or set ADS_API_PORT (then `make demo` again)")
        log = open(self.api_dir / "server.log", "ab")
        proc = subprocess.Popen(
            [sys.executable, "-m", "api", "serve", "--port", str(API_PORT)],
            cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
        (self.api_dir / "pid").write_text(str(proc.pid))
        wait_http(f"{url}/healthz", 60, proc, self.api_dir / "server.log", "reporting service")
        return url

    def stop_api(self) -> None:
        stop_process(self.api_dir / "pid")

    def write_env_file(self) -> Path:
        path = self.local / "env.sh"
        path.touch(mode=0o600)
        lines = [f"export {k}={_shell_quote(v)}" for k, v in sorted(self.env().items())]
        path.write_text("# Generated by scripts/stack.py: source it to use airflow, dbt and psql on the local stack.\n" + "\n".join(lines) + "\n")
        return path

    def up(self, end_date: date) -> dict[str, str]:
        self.pg.start()
        ensure_database(self.pg, WAREHOUSE_DB)
        self.start_sandbox(end_date)
        self.start_sqs()
        self.drop_demo_files(end_date)
        self.airflow_home.mkdir(parents=True, exist_ok=True)
        self.write_airflow_passwords()
        self.write_env_file()
        return {**os.environ, **self.env()}

    def down(self) -> None:
        self.stop_api()
        self.stop_sandbox()
        self.stop_sqs()
        self.pg.stop()


def _shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


def run(cmd: list[str], env: dict[str, str], **kw) -> subprocess.CompletedProcess:
    return subprocess.run(cmd, env=env, cwd=REPO, **kw)


def prepare_airflow(env: dict[str, str]) -> None:
    """Migrate the SQLite metadata DB and compile the dbt manifest the DAG renders from."""
    marker = Path(env["AIRFLOW_HOME"]) / "airflow.db"
    if not marker.exists():
        run([venv_bin("airflow"), "db", "migrate"], env, check=True, stdout=subprocess.DEVNULL)
    ensure_manifest(env)


MANIFEST_DIR = REPO / "dbt_project" / "target"


def ensure_manifest(env: dict[str, str] | None = None) -> Path:
    """`dbt_project/target/manifest.json`, which the DAG renders its dbt tasks from, for the project as it is.

    Parsed again only when the project changed since the last parse (a fingerprint beside
    the manifest), by one process at a time (a lock file), into a scratch folder whose
    manifest then replaces the old one in a single rename: a DAG parsed meanwhile (the demo,
    a parallel test worker) reads either the old manifest or the new one, never half of one.
    """
    import fcntl
    import tempfile

    MANIFEST_DIR.mkdir(parents=True, exist_ok=True)
    manifest, stamp = MANIFEST_DIR / "manifest.json", MANIFEST_DIR / "manifest.fingerprint"
    with open(MANIFEST_DIR / ".parse.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        current = dbt_project_fingerprint(with_tests=True)
        if manifest.exists() and stamp.exists() and stamp.read_text().strip() == current:
            return manifest
        with tempfile.TemporaryDirectory(prefix="parse-", dir=MANIFEST_DIR) as scratch:
            project = REPO / "dbt_project"
            run(
                [venv_bin("dbt"), "parse", "--project-dir", str(project), "--profiles-dir", str(project), "--quiet",
                 "--target-path", scratch, "--log-path", str(Path(scratch) / "logs")],
                {**os.environ, **(env or {})},
                check=True,
            )  # fmt: skip
            for name in ("partial_parse.msgpack", "manifest.json", "semantic_manifest.json"):
                if (Path(scratch) / name).exists():
                    os.replace(Path(scratch) / name, MANIFEST_DIR / name)
        stamp.write_text(current + "\n")
    return manifest


def dbt_project_fingerprint(project: Path = REPO / "dbt_project", with_tests: bool = False) -> str:
    """A hash of what shapes the warehouse's tables: dbt_project.yml, the models, macros and seeds (and its tests)."""
    import hashlib

    digest = hashlib.sha256()
    folders = ("models", "macros", "seeds", *(("tests",) if with_tests else ()))
    files = [project / "dbt_project.yml", *(p for d in folders for p in (project / d).rglob("*") if p.is_file())]
    for path in sorted(files):
        digest.update(str(path.relative_to(project)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def rebuild_if_project_changed(stack: Stack, env: dict[str, str]) -> None:
    """Rebuild the marts in full when the dbt project changed since this warehouse's last demo run.

    An incremental model whose columns changed stops the daily build ("schemas out of sync")
    rather than guess, and an incremental model whose logic changed keeps its old rows for
    the days it does not rebuild: both need a full refresh, which this does before the run.
    """
    marker = stack.local / "dbt-project.sha256"
    current = dbt_project_fingerprint()
    built_before = marker.read_text().strip() if marker.exists() else (_has_marts(stack) and "unknown")
    if built_before and built_before != current:
        print("\n== the dbt project changed since the last demo: rebuilding the warehouse's models in full ==")
        dbt = [venv_bin("dbt"), "--quiet"]
        where = ["--project-dir", str(REPO / "dbt_project"), "--profiles-dir", str(REPO / "dbt_project")]
        for command in (["seed", "--full-refresh"], ["run", "--full-refresh"]):
            run([*dbt, *command, *where], env, check=True)
    marker.write_text(current + "\n")


def _has_marts(stack: Stack) -> bool:
    """Whether the warehouse already holds models from an earlier run (a stack older than the fingerprint)."""
    import psycopg2

    with psycopg2.connect(stack.pg.dsn(WAREHOUSE_DB)) as conn, conn.cursor() as cur:
        cur.execute("select to_regclass('marts.fct_ad_performance_daily') is not null")
        found = cur.fetchone()[0]
    conn.close()
    return found


_TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(?P<task>\S+) map_index=(?P<index>-?\d+)")
_TASK_RUNNING = re.compile(r"\[DAG TEST\] running task <TaskInstance: ads_\w+\.(?P<task>\S+) .*ti_id=(?P<ti>[0-9a-f-]+)")
_TASK_STATE = re.compile(r"Task instance state updated .*new_state=(?P<state>\w+) .*ti_id=(?P<ti>[0-9a-f-]+)")
_TASK_END = re.compile(r"\[DAG TEST\] end task task_id=(?P<task>\S+) map_index=(?P<index>-?\d+)")
_ROWS = re.compile(r"Returned value was: \{.*'workspace_id': '(?P<ws>[^']+)', 'account_id': '(?P<account>[^']+)'.*'rows_loaded': (?P<rows>\d+)")


def follow_dag_test(log_path: Path, proc: subprocess.Popen) -> None:
    """Print each task of `airflow dags test` as it ends (state, seconds, rows loaded), reading its log as it grows."""
    from datetime import datetime

    started: dict[tuple[str, str], datetime] = {}
    states: dict[str, str] = {}
    ti_task: dict[str, str] = {}
    rows: dict[str, str] = {}
    first: datetime | None = None

    def stamp(line: str) -> datetime:
        try:
            return datetime.fromisoformat(line[:26])
        except ValueError:
            return datetime.now()

    with open(log_path, errors="replace") as f:
        buffer = ""
        while True:
            chunk = f.read()
            if chunk:
                buffer += chunk
                *lines, buffer = buffer.split("\n")
                for line in lines:
                    if m := _TASK_START.search(line):
                        started[(m["task"], m["index"])] = stamp(line)
                        first = first or stamp(line)
                    elif m := _TASK_RUNNING.search(line):
                        ti_task[m["ti"]] = m["task"]
                    elif m := _TASK_STATE.search(line):
                        states[ti_task.get(m["ti"], m["ti"])] = m["state"]
                    elif (m := _ROWS.search(line)) and ti_task:
                        rows[list(ti_task.values())[-1]] = f"{m['ws']} / {m['account']}: {m['rows']} rows loaded"
                    elif m := _TASK_END.search(line):
                        task, index = m["task"], m["index"]
                        now = stamp(line)
                        seconds = (now - started.get((task, index), now)).total_seconds()
                        label = task + (f"[{index}]" if index != "-1" else "")
                        extra = f"  {rows.pop(task)}" if task in rows else ""
                        elapsed = int((now - (first or now)).total_seconds())
                        print(f"  {elapsed // 60:2d}:{elapsed % 60:02d}  {label:48s} {states.get(task, 'done'):9s} {seconds:5.1f} s{extra}", flush=True)
            elif proc.poll() is not None:
                return
            else:
                time.sleep(0.5)


def demo(report_date: date) -> int:
    stack = Stack()
    env = stack.up(report_date)
    print(f"warehouse: postgresql://postgres@127.0.0.1:{stack.pg.port}/{WAREHOUSE_DB}")
    print(f"sandbox APIs: {stack.sandbox_url()}")
    prepare_airflow(env)
    rebuild_if_project_changed(stack, env)
    logical = report_date + timedelta(days=1)
    print(f"\n== airflow dags test ads_daily {logical} (reports on {report_date}) ==")
    log_path = stack.local / "demo-dags-test.log"
    print(f"(each task as it ends; the full log goes to {log_path.relative_to(REPO)})")
    run_started = datetime.now(UTC)
    with open(log_path, "w") as log:
        proc = subprocess.Popen(
            [venv_bin("airflow"), "dags", "test", "ads_daily", logical.isoformat()], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )
        follow_dag_test(log_path, proc)
    print(f"full log: {log_path}")
    from demo_report import print_report

    print_report(stack.pg.dsn(WAREHOUSE_DB), report_date, log_path, run_started)
    demo_stream(stack, env, report_date)
    print("\n== the reporting service (api/): API and dashboard ==")
    api = start_reporting_service(stack, env)
    print(f"  {api['url']}  (OpenAPI: {api['url']}/docs); tokens and signed dashboard links in .local/api.json")
    for ws, link in api["dashboard_links"].items():
        print(f"  {ws:14s} {link}")
    print(
        "\nThe warehouse is still running:\n"
        "  make api                       # the reporting service alone (make demo starts it)\n"
        "  make psql                      # SQL shell on the warehouse (or: echo 'select ...' | make psql)\n"
        "  make ui                        # the Airflow UI on this run (http://localhost:8080)\n"
        "  make stop                      # stop Postgres and the sandbox\n"
        "  source .local/env.sh           # airflow / dbt on this stack from your shell\n"
        f"  connect any client to 127.0.0.1:{stack.pg.port}, database {WAREHOUSE_DB}, user postgres, "
        f"password in {stack.pg.password_file.relative_to(REPO)}"
    )
    return proc.returncode


# The demo's Marketing Stream: the report day and the days before it in full, then the next day up to
# 13:00 profile time, with a spend spike on one Amazon campaign from 10:00 that the hour's run catches.
STREAM_BASELINE_DAYS = 3
STREAM_UNTIL_HOUR = 13
STREAM_SPIKE_CAMPAIGN, STREAM_SPIKE_HOUR = "310000000000101", 10


def demo_stream_bodies(world, report_date: date, baseline_days: int = STREAM_BASELINE_DAYS) -> list[str]:
    """The demo's Marketing Stream: `baseline_days` full days to the report day, then the next day to STREAM_UNTIL_HOUR
    with the spend spike, as delivered by then (SNS envelopes, in delivery order)."""
    from sandbox.platforms.amazon_ads_stream import Spike, StreamPublisher

    today = report_date + timedelta(days=1)
    return StreamPublisher(world).bodies(
        report_date - timedelta(days=baseline_days), report_date, today,
        partial_day=today, until_hour=STREAM_UNTIL_HOUR, spike=Spike(STREAM_SPIKE_CAMPAIGN, today, STREAM_SPIKE_HOUR),
    )  # fmt: skip


def publish_demo_stream(sqs_url: str, report_date: date, queue: str = STREAM_QUEUE) -> int:
    """Publish the demo world's Marketing Stream messages to the local queue; returns how many."""
    from sandbox.platforms.amazon_ads_stream import publish
    from sandbox.world import World

    bodies = demo_stream_bodies(World.demo(report_date), report_date)
    return publish(sqs_client(sqs_url), f"{sqs_url}/{SQS_ACCOUNT}/{queue}", bodies)


def demo_stream(stack: Stack, env: dict[str, str], report_date: date) -> int:
    """Publish a day of Marketing Stream messages, run ads_stream once, print the hourly table and intraday alerts."""
    today = report_date + timedelta(days=1)
    print(f"\n== Amazon Marketing Stream: publishing {report_date - timedelta(days=STREAM_BASELINE_DAYS)} to {today} {STREAM_UNTIL_HOUR}:00 to the local SQS ==", flush=True)
    sent = publish_demo_stream(stack.sqs_url(), report_date)
    print(f"  {sent} messages (SNS envelopes; duplicates, hours out of order, late conversions and a few broken bodies among them)", flush=True)
    logical = f"{today.isoformat()}T21:05:00+00:00"
    print(f"\n== airflow dags test ads_stream {logical} ==", flush=True)
    log_path = stack.local / "demo-stream-dags-test.log"
    with open(log_path, "w") as log:
        proc = subprocess.Popen([venv_bin("airflow"), "dags", "test", "ads_stream", logical], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
        follow_dag_test(log_path, proc)
    print(f"full log: {log_path}")
    from demo_report import print_stream_report

    print_stream_report(stack.pg.dsn(WAREHOUSE_DB), today)
    return proc.returncode


def start_reporting_service(stack: Stack, env: dict[str, str]) -> dict:
    """Start the service, give each workspace a token (the last demo's are revoked) and a signed link -> .local/api.json."""
    url = stack.start_api(env)
    os.environ.update(env)
    import psycopg2

    from ads_elt.alerts.links import sign_url
    from api.security import create_token, revoke_token
    from api.settings import load

    settings = load()
    path = stack.local / "api.json"
    earlier = json.loads(path.read_text()) if path.exists() else {}
    conn = psycopg2.connect(settings.dsn)
    try:
        for token in [*earlier.get("tokens", {}).values(), earlier.get("admin_token")]:
            if token and token.count("_") >= 2:
                revoke_token(conn, token.split("_")[1])
        with conn.cursor() as cur:
            cur.execute("select distinct workspace_id from ops.workspace_accounts where active order by 1")
            workspaces = [r[0] for r in cur.fetchall()]
        tokens = {ws: create_token(conn, ws, "make demo")[1] for ws in workspaces}
        admin = create_token(conn, None, "make demo (admin)")[1]
    finally:
        conn.close()
    links = {ws: sign_url(f"{url}/dashboard/{ws}", settings.signing_key, ws, settings.link_ttl_days) for ws in workspaces}
    out = {"url": url, "tokens": tokens, "admin_token": admin, "dashboard_links": links}
    path.touch(mode=0o600)
    path.write_text(json.dumps(out, indent=2) + "\n")
    return out


def api(report_date: date) -> int:
    """`make api`: the reporting service alone, on the demo's warehouse (built by `make demo`)."""
    stack = Stack()
    env = stack.up(report_date)
    if not _has_marts(stack):
        print("the warehouse has no marts yet: run `make demo` first", file=sys.stderr)
        return 1
    out = start_reporting_service(stack, env)
    print(f"reporting service at {out['url']} (OpenAPI: {out['url']}/docs); tokens and links in .local/api.json")
    return 0


def docs() -> int:
    """`make docs`: dbt's docs site for the demo warehouse (catalog included), served on a free port until Ctrl-C."""
    import functools
    import http.server

    stack = Stack()
    if not stack.pg.is_running():
        stack.pg.start()
    env = {**os.environ, **stack.env()}
    target = stack.local / "dbt-docs"
    project = REPO / "dbt_project"
    run(
        [venv_bin("dbt"), "--quiet", "docs", "generate", "--project-dir", str(project), "--profiles-dir", str(project),
         "--target-path", str(target), "--log-path", str(target / "logs")],
        env,
        check=True,
    )  # fmt: skip
    port = free_port()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(target))
    with http.server.ThreadingHTTPServer(("127.0.0.1", port), handler) as server:
        print(f"dbt docs for the demo warehouse: http://127.0.0.1:{port}/  (Ctrl-C stops it)", flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
    return 0


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("action", choices=["up", "down", "demo", "api", "env", "psql-dsn", "manifest", "docs"])
    ap.add_argument("--date", default=os.environ.get("DATE") or DEFAULT_DATE, help="the report date (default %(default)s)")
    args = ap.parse_args(argv)
    report_date = date.fromisoformat(args.date)
    stack = Stack()
    if args.action == "up":
        stack.up(report_date)
        print(f"up: warehouse on 127.0.0.1:{stack.pg.port}, sandbox at {stack.sandbox_url()}; source .local/env.sh")
    elif args.action == "down":
        stack.down()
    elif args.action == "demo":
        return demo(report_date)
    elif args.action == "api":
        return api(report_date)
    elif args.action == "env":
        print(stack.write_env_file().read_text())
    elif args.action == "docs":
        return docs()
    elif args.action == "manifest":  # dbt_project/target/{manifest,semantic_manifest}.json for the project as it is
        ensure_manifest({"DBT_PORT": "5432"})
    elif args.action == "psql-dsn":
        if not stack.pg.is_running():
            stack.pg.start()
        print(stack.pg.dsn(WAREHOUSE_DB))
    return 0


if __name__ == "__main__":
    sys.exit(main())
