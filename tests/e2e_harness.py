"""Runs the real DAG through `airflow dags test` against a real Postgres and the sandbox."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import psycopg2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from stack import airflow_env, connections_env, dbt_cli_env, ensure_manifest, new_credentials, venv_bin  # noqa: E402


def copy_database(pg_server, template: str, name: str) -> str:
    """A new database `name` holding what `template` holds now (a file copy)."""
    conn = psycopg2.connect(pg_server.dsn())
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            cur.execute(f'create database "{name}" template "{template}" strategy file_copy')
    finally:
        conn.close()
    return name


@dataclass
class DagRun:
    returncode: int
    output: str

    @property
    def succeeded(self) -> bool:
        return self.returncode == 0  # `airflow dags test` exits non-zero when the DAG run failed


@dataclass
class Warehouse:
    """One database of the test cluster: a stack's live warehouse or a copy taken after a run."""

    pg_server: object
    dbname: str

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        conn = psycopg2.connect(self.pg_server.dsn(self.dbname))
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                return cur.fetchall() if cur.description else []
        finally:
            conn.close()


@dataclass
class E2EStack:
    pg_server: object
    dbname: str
    sandbox: object
    home: Path
    credentials: dict
    env: dict = field(default_factory=dict)

    @classmethod
    def start(cls, pg_server, world, home: Path, today: date) -> E2EStack:
        from sandbox.server import SandboxServer

        creds = new_credentials()
        server = SandboxServer(world, credentials=creds, today=today)
        server.start()
        dbname = pg_server.create_database("e2e")
        stack = cls(pg_server, dbname, server, home, creds)
        stack.env = {
            **os.environ,
            **airflow_env(home / "airflow", home / "lake"),
            # Amazon's reports polled every half second (the demo's Connection: 2 s), three polls each.
            **connections_env(pg_server.port, pg_server.password, dbname, server.url, creds, report_poll_seconds=0.5),
            **dbt_cli_env(pg_server.port, pg_server.password, dbname),
        }
        (home / "airflow").mkdir(parents=True, exist_ok=True)
        subprocess.run([venv_bin("airflow"), "db", "migrate"], env=stack.env, check=True, capture_output=True, cwd=REPO)
        ensure_manifest(stack.env)
        return stack

    def stop(self) -> None:
        self.sandbox.stop()

    @property
    def inbox(self) -> Path:
        return Path(self.env["ADS_ELT_FILE_DROP_ROOT"])

    def drop_demo_files(self, world, since: date, until: date) -> list[Path]:
        """The world's file-drop exports (CSV) into the workspaces' inboxes, as merchants would drop them."""
        from sandbox.platforms.file_drop import drop_demo_exports

        return drop_demo_exports(world, self.inbox, since, until, as_of=self.sandbox.today)

    def run_dag(self, report_date: date, **extra_env: str) -> DagRun:
        logical = report_date + timedelta(days=1)
        proc = subprocess.run(
            [venv_bin("airflow"), "dags", "test", "ads_daily", logical.isoformat()],
            env={**self.env, **extra_env},
            capture_output=True,
            text=True,
            cwd=REPO,
            timeout=900,
        )
        out = proc.stdout + proc.stderr
        log_dir = self.home / "runs"
        log_dir.mkdir(exist_ok=True)
        (log_dir / f"{report_date}-{len(list(log_dir.iterdir()))}.log").write_text(out)
        return DagRun(proc.returncode, out)

    def admin(self, method: str, path: str, body: dict | None = None) -> dict:
        req = urllib.request.Request(
            f"{self.sandbox.url}/_sandbox/{path}",
            data=json.dumps(body).encode() if body is not None else None,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else {}

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        return Warehouse(self.pg_server, self.dbname).query(sql, params)

    def copy_warehouse(self, name: str) -> Warehouse:
        """The live warehouse as it is now, copied to its own database (a file copy: a second or two)."""
        return Warehouse(self.pg_server, copy_database(self.pg_server, self.dbname, f"{self.dbname}_{name}"))
