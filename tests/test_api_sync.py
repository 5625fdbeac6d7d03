"""The API's sync endpoints against a real Airflow: API server, dag-processor and scheduler (LocalExecutor,
metadata in the test Postgres) started once for this module, `ads_daily` on the sandbox's Meta and Google
Ads accounts. A sync of one account plans and extracts that account only; a workspace's sync carries its
limit; the run's state is read back through the API, and only by the workspace that asked for it."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import time
from datetime import date, timedelta

import pytest
from api_harness import REPO, start_api_server

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("airflow_sync")]

REPORT_DATE = date(2026, 11, 20)
WS, OTHER = "northwind_us", "lumen_eu"


class Services:
    def __init__(self, env, procs, url, api, warehouse):
        self.env, self.procs, self.url, self.api, self.warehouse = env, procs, url, api, warehouse

    def airflow(self):
        from api.orchestrator import Airflow

        return Airflow(self.url, "admin", self.env["ADMIN_PASSWORD"])


@pytest.fixture(scope="module")
def services(pg_server, tmp_path_factory):
    from celery_run import Processes, registry_yaml, wait_port
    from stack import airflow_env, connections_env, dbt_cli_env, ensure_manifest, free_port, new_credentials, venv_bin

    from sandbox.server import SandboxServer
    from sandbox.world import World

    home = tmp_path_factory.mktemp("airflow_sync")
    world = World.demo(REPORT_DATE)
    creds = new_credentials()
    sandbox = SandboxServer(world, credentials=creds, today=REPORT_DATE + timedelta(days=1))
    sandbox.start()
    meta_db, warehouse = pg_server.create_database("airflow_meta"), pg_server.create_database("sync_wh")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    user, password = creds["airflow_api"]["username"], creds["airflow_api"]["password"]  # the airflow_api Connection's
    (home / "passwords.json").write_text(json.dumps({user: password}))
    jwt = secrets.token_urlsafe(32)
    env = {
        **os.environ,
        **airflow_env(home / "airflow", home / "lake"),
        **connections_env(pg_server.port, pg_server.password, warehouse, sandbox.url, creds),
        **dbt_cli_env(pg_server.port, pg_server.password, warehouse),
        "ADS_ELT_REGISTRY": str(registry_yaml(world, home / "registry.yml", 3)),
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"postgresql+psycopg2://postgres:{pg_server.password}@127.0.0.1:{pg_server.port}/{meta_db}",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{url}/execution/",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{user}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
        "AIRFLOW__API_AUTH__JWT_SECRET": jwt,
        "AIRFLOW__API__SECRET_KEY": jwt,
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",  # only the runs the API asks for
        "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "False",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "5",
        "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
        "AIRFLOW__CORE__PARALLELISM": "4",
        "ADS_ELT_RETRY_DELAY_SECONDS": "5",
        "ADMIN_PASSWORD": password,
    }
    (home / "airflow").mkdir(parents=True, exist_ok=True)
    ensure_manifest(env)
    airflow = venv_bin("airflow")
    subprocess.run([airflow, "db", "migrate"], env=env, cwd=REPO, check=True, capture_output=True)
    # the warehouse as the DAG's `prepare` leaves it: accounts known, roles (the api role too) created
    subprocess.run(
        [venv_bin("python"), "-c", f"from datetime import date; from ads_elt.ingestion.pipeline import prepare; prepare(date.fromisoformat('{REPORT_DATE}'))"],
        env=env, cwd=REPO, check=True, capture_output=True,
    )  # fmt: skip
    procs = Processes(home)
    procs.start("api-server", [airflow, "api-server", "-H", "127.0.0.1", "-p", str(port), "-w", "1"], env)
    procs.start("dag-processor", [airflow, "dag-processor"], env)
    procs.start("scheduler", [airflow, "scheduler"], env)
    api = None
    try:
        wait_port(port, timeout=180)
        api = start_api_server(pg_server, warehouse, creds, home / "api", airflow_url=url)
        api.tokens = {WS: api.token(WS), OTHER: api.token(OTHER)}
        svc = Services(env, procs, url, api, warehouse)
        deadline = time.monotonic() + 240
        while time.monotonic() < deadline:  # the dag-processor has serialised ads_daily
            procs.check()
            try:
                svc.airflow()._request("GET", "/api/v2/dags/ads_daily")
                break
            except Exception:  # noqa: BLE001 - not there yet
                time.sleep(2)
        else:
            raise TimeoutError("ads_daily did not reach Airflow's API server")
        yield svc
    finally:
        if api is not None:
            api.stop()
        procs.stop(grace=5)  # a throwaway Airflow: what has not stopped in 5 s is killed (the scheduler can take 30)
        sandbox.stop()


def task_instances(svc, run_id: str) -> dict[tuple[str, int], str]:
    from urllib.parse import quote

    got = svc.airflow()._request("GET", f"/api/v2/dags/ads_daily/dagRuns/{quote(run_id, safe='')}/taskInstances?limit=500")
    return {(t["task_id"], t["map_index"]): t["state"] for t in got["task_instances"]}


def wait_for(svc, run_id: str, done, timeout: float = 300) -> dict[tuple[str, int], str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        svc.procs.check()
        tis = task_instances(svc, run_id)
        if done(tis):
            return tis
        time.sleep(2)
    raise TimeoutError(f"run {run_id} did not get there: {tis}")


def xcom(svc, run_id: str, task_id: str):
    from urllib.parse import quote

    path = f"/api/v2/dags/ads_daily/dagRuns/{quote(run_id, safe='')}/taskInstances/{task_id}/xcomEntries/return_value"
    return svc.airflow()._request("GET", path)["value"]


def stop_run(svc, run_id: str) -> None:
    """Mark the run failed so it stops (the client repeats a PATCH Airflow answers with a 5xx)."""
    from urllib.parse import quote

    svc.airflow()._request("PATCH", f"/api/v2/dags/ads_daily/dagRuns/{quote(run_id, safe='')}", json={"state": "failed"})


def test_a_sync_of_one_account_plans_and_extracts_only_that_account(services):
    api = services.api
    (platform, account), = api.query(
        "select platform, account_id from ops.workspace_accounts where workspace_id = %s and platform = 'meta' order by 2 limit 1", (WS,)
    )
    r = api.post(f"/v1/workspaces/{WS}/accounts/{platform}/{account}/sync", api.tokens[WS])
    assert r.status_code == 202, r.text
    body = r.json()
    run_id = body["run_id"]
    assert body["conf"] == {"workspace_id": WS, "platform": platform, "account_id": account} and body["dag_paused"] is False

    def loaded(tis):
        return tis.get((f"{platform}.account.load", 0)) in ("success", "failed") and all(
            s in ("success", "failed", "skipped") for (t, _), s in tis.items() if t.endswith(".plan")
        )

    try:
        tis = wait_for(services, run_id, loaded)
        plans = sorted(t for t, _ in tis if t.endswith(".plan"))
        assert len(plans) >= 2 and all(tis[(t, -1)] == "success" for t in plans), tis
        scopes = {t: xcom(services, run_id, t) for t in plans}
        assert [(s["workspace_id"], s["account_id"]) for s in scopes[f"{platform}.plan"]] == [(WS, account)]
        assert all(v == [] for t, v in scopes.items() if t != f"{platform}.plan"), scopes
        assert tis[(f"{platform}.account.load", 0)] == "success"
        assert not any(t.endswith(".account.extract") and i > 0 for t, i in tis)  # one mapped account, no other
        synced = api.query("select platform, workspace_id, account_id from ops.sync_runs where sync_run_id = %s", (run_id,))
        assert synced == [(platform, WS, account)]
        state = api.get(f"/v1/workspaces/{WS}/sync/{run_id}", api.tokens[WS])
        assert state.status_code == 200 and state.json()["state"] in ("running", "queued"), state.text
        assert api.get(f"/v1/workspaces/{OTHER}/sync/{run_id}", api.tokens[OTHER]).status_code == 404  # not theirs
    finally:
        stop_run(services, run_id)
    assert api.get(f"/v1/workspaces/{WS}/sync/{run_id}", api.tokens[WS]).json()["state"] == "failed"


def test_a_workspace_sync_carries_its_limit_and_unknown_runs_are_404(services):
    api = services.api
    r = api.post(f"/v1/workspaces/{OTHER}/sync", api.tokens[OTHER])
    assert r.status_code == 202, r.text
    run_id = r.json()["run_id"]
    try:
        state = api.get(f"/v1/workspaces/{OTHER}/sync/{run_id}", api.tokens[OTHER]).json()
        assert state["conf"] == {"workspace_id": OTHER} and state["dag_run_id"] == run_id
    finally:
        stop_run(services, run_id)
    assert api.get(f"/v1/workspaces/{OTHER}/sync/manual__nothing", api.tokens[OTHER]).status_code == 404
