"""The reporting service (api/) as a real uvicorn process on a free port, against one test warehouse."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import requests

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from e2e_harness import copy_database  # noqa: E402
from stack import connections_env, free_port, service_connections_env, wait_http  # noqa: E402


@dataclass
class ApiServer:
    url: str
    proc: subprocess.Popen
    env: dict[str, str]
    admin_dsn: str
    signing_key: bytes
    log: Path

    def __post_init__(self):
        self.http = requests.Session()
        self.http.trust_env = False

    def request(self, method: str, path: str, token: str | None = None, **kw) -> requests.Response:
        headers = kw.pop("headers", {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return self.http.request(method, self.url + path, headers=headers, timeout=30, **kw)

    def get(self, path: str, token: str | None = None, **kw) -> requests.Response:
        return self.request("GET", path, token, **kw)

    def post(self, path: str, token: str | None = None, **kw) -> requests.Response:
        return self.request("POST", path, token, **kw)

    def token(self, workspace_id: str | None, label: str = "test") -> str:
        from api.security import create_token

        conn = psycopg2.connect(self.admin_dsn)
        try:
            return create_token(conn, workspace_id, label)[1]
        finally:
            conn.close()

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        conn = psycopg2.connect(self.admin_dsn)
        try:
            with conn.cursor() as cur:
                cur.execute(sql, params)
                rows = cur.fetchall() if cur.description else []
            conn.commit()
            return rows
        finally:
            conn.close()

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def start_api_server(pg_server, dbname: str, creds: dict, home: Path, airflow_url: str | None = None, **extra_env: str) -> ApiServer:
    """`python -m api serve` on a free port; Airflow's API at `airflow_url` (default: a port nothing listens on)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        **connections_env(pg_server.port, pg_server.password, dbname, "http://127.0.0.1:9", creds),
        **service_connections_env(creds, api_url=url, airflow_url=airflow_url or f"http://127.0.0.1:{free_port()}"),
        "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")]),
        "NO_PROXY": "127.0.0.1,localhost",
        **extra_env,
    }
    home.mkdir(parents=True, exist_ok=True)
    log = home / "api.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "api", "serve", "--port", str(port)], cwd=REPO, env=env, stdout=open(log, "wb"), stderr=subprocess.STDOUT
    )
    server = ApiServer(url, proc, env, pg_server.dsn(dbname), creds["reporting_api"]["signing_key"].encode(), log)
    try:
        wait_http(f"{url}/healthz", 90, proc, log, "reporting service")
    except SystemExit as exc:
        server.stop()
        raise RuntimeError(str(exc)) from None
    return server


WS, OTHER = "northwind_us", "lumen_eu"  # the demo workspaces the API tests read as two tenants


def serve_demo_copy(demo, home: Path) -> ApiServer:
    """The service on a copy of the demo world's warehouse after its first run (what it changes stays in the copy),
    with a token for two workspaces and an admin token (`server.tokens`)."""
    stack = demo.stack
    dbname = copy_database(stack.pg_server, demo.first.warehouse.dbname, f"{demo.first.warehouse.dbname}_api")
    server = start_api_server(stack.pg_server, dbname, stack.credentials, home, ADS_API_RATE_LIMIT="240")
    server.tokens = {WS: server.token(WS), OTHER: server.token(OTHER), None: server.token(None, "admin")}
    server.dbname = dbname
    return server
