"""Triggering `ads_daily` through Airflow's REST API (v2), for the sync endpoints.

The run's params limit it to a workspace or one account (dags/ads_daily.py `PARAMS`,
honoured by `plan`). Authentication: a JWT from the API server's `/auth/token` with the
`airflow_api` Connection's login and password.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import requests

DAG_ID = "ads_daily"
IDEMPOTENT = frozenset({"GET", "PUT", "PATCH", "DELETE"})


class AirflowUnavailable(RuntimeError):
    """Airflow's API server is not configured or does not answer."""


class AirflowRefused(RuntimeError):
    def __init__(self, status: int, detail: str):
        super().__init__(f"Airflow answered {status}: {detail}")
        self.status = status


class Airflow:
    def __init__(self, url: str, username: str, password: str, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.username, self.password = username, password
        self.timeout = timeout
        self._token: str | None = None
        self._lock = threading.Lock()
        self.session = requests.Session()
        self.session.trust_env = False  # the API server is ours, never through a proxy

    def _login(self) -> str:
        try:
            r = self.session.post(
                f"{self.url}/auth/token", json={"username": self.username, "password": self.password}, timeout=self.timeout
            )
        except requests.RequestException as exc:
            raise AirflowUnavailable(f"Airflow's API server at {self.url} does not answer ({type(exc).__name__})") from None
        if r.status_code >= 400:
            raise AirflowRefused(r.status_code, "the airflow_api Connection's login was refused")
        return r.json()["access_token"]

    def _request(self, method: str, path: str, **kw) -> dict[str, Any]:
        """One call with the JWT (logged in again once on 401). A 5xx to a call that is safe to repeat (GET,
        PUT, PATCH, DELETE) is tried again, twice: Airflow answers 500 when an update meets the scheduler's
        on the same rows in its metadata database. A POST (a new run) is never repeated."""
        relogged = False
        server_errors = 0
        while True:
            with self._lock:
                if self._token is None:
                    self._token = self._login()
                token = self._token
            try:
                r = self.session.request(
                    method, f"{self.url}{path}", headers={"Authorization": f"Bearer {token}"}, timeout=self.timeout, **kw
                )
            except requests.RequestException as exc:
                raise AirflowUnavailable(f"Airflow's API server at {self.url} does not answer ({type(exc).__name__})") from None
            if r.status_code == 401 and not relogged:
                relogged = True
                with self._lock:
                    self._token = None
                continue
            if r.status_code >= 500 and method.upper() in IDEMPOTENT and server_errors < 2:
                server_errors += 1
                time.sleep(server_errors)
                continue
            if r.status_code >= 400:
                try:
                    detail = r.json().get("detail")
                except ValueError:
                    detail = r.text[:200]
                raise AirflowRefused(r.status_code, str(detail))
            return r.json()

    def trigger(self, conf: dict[str, str]) -> dict[str, Any]:
        """A manual run of ads_daily with `conf` as its params; returns run_id, state and whether the DAG is paused."""
        dag = self._request("GET", f"/api/v2/dags/{DAG_ID}")
        run = self._request("POST", f"/api/v2/dags/{DAG_ID}/dagRuns", json={"logical_date": None, "conf": conf})
        return {"run_id": run["dag_run_id"], "state": run["state"], "dag_paused": bool(dag.get("is_paused")), "conf": run.get("conf")}

    def run(self, run_id: str) -> dict[str, Any]:
        from urllib.parse import quote

        return self._request("GET", f"/api/v2/dags/{DAG_ID}/dagRuns/{quote(run_id, safe='')}")
