"""End to end through `airflow dags test`: one run with a mix of faults across accounts, then a clean run.

Run 1 (first sync, 90 days): Meta 1000000001 is throttled past the retry
budget once (the task's own retry gets it), Meta 2000000002's access is revoked,
Google 1234567890's token expires (refreshed) and it sends negative spend,
Google 2345678901 has a 5xx burst and reports spend without metrics on the
report date. Run 2: no faults. The secret-leak check greps everything run 1
left behind.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import date, timedelta
from pathlib import Path

import pytest
from e2e_harness import E2EStack

pytestmark = pytest.mark.e2e

REPORT_DATE = date(2026, 11, 20)
HISTORY_DAYS = 90
ACCOUNTS = (("meta", "1000000001"), ("meta", "2000000002"), ("google_ads", "1234567890"), ("google_ads", "2345678901"))
FAST = {
    "ADS_ELT_RETRY_DELAY_SECONDS": "1",
    "ADS_ELT_HTTP_BACKOFF_BASE": "0.05",
    "ADS_ELT_HTTP_BACKOFF_MAX": "0.2",
    "ADS_ELT_HTTP_MAX_TOTAL_WAIT": "5",
}


@pytest.fixture(scope="module")
def world():
    from sandbox.world import World

    return World.demo(REPORT_DATE)


REGISTRY = """
version: 1
defaults:
  initial_history_days: 90
workspaces:
  - id: northwind_us
    name: Northwind Outdoor
    currency: USD
    timezone: America/New_York
    accounts:
      - {platform: meta, account_id: "1000000001"}
      - {platform: google_ads, account_id: "1234567890"}
  - id: lumen_eu
    name: Lumen Skincare EU
    currency: EUR
    timezone: Europe/Berlin
    accounts:
      - {platform: meta, account_id: "2000000002"}
      - {platform: google_ads, account_id: "2345678901"}
"""


@pytest.fixture(scope="module")
def stack(pg_server, world, tmp_path_factory):
    home = tmp_path_factory.mktemp("faults_e2e")
    s = E2EStack.start(pg_server, world, home, today=REPORT_DATE + timedelta(days=1))
    (home / "workspaces.yml").write_text(REGISTRY)
    s.env.update(FAST, ADS_ELT_REGISTRY=str(home / "workspaces.yml"))
    yield s
    s.stop()


@pytest.fixture(scope="module")
def faulted_run(stack):
    for fault in (
        {"platform": "meta", "account_id": "1000000001", "kind": "rate_limited", "count": 1, "retry_after": 600},
        {"platform": "meta", "account_id": "2000000002", "kind": "auth_revoked", "count": None},
        {"platform": "google_ads", "account_id": "1234567890", "kind": "auth_expired", "count": 1},
        {"platform": "google_ads", "account_id": "1234567890", "kind": "bad_data", "count": 1, "variant": "negative_spend", "rows": 2},
        {"platform": "google_ads", "account_id": "2345678901", "kind": "http_500", "count": 2, "status": 503},
        {
            "platform": "google_ads",
            "account_id": "2345678901",
            "kind": "bad_data",
            "count": 1,
            "variant": "spend_without_metrics",
            "day": REPORT_DATE.isoformat(),
        },
    ):
        stack.admin("POST", "faults", fault)
    try:
        run = stack.run_dag(REPORT_DATE)
    finally:
        stack.admin("DELETE", "faults")
    return run


@pytest.fixture(scope="module")
def clean_run(stack, faulted_run):
    run = stack.run_dag(REPORT_DATE)
    assert run.succeeded, run.output[-6000:]
    return run


def fact(stack, platform, account_id):
    return sorted(
        (c, d, round(float(s), 2), i, k)
        for c, d, s, i, k in stack.query(
            "select campaign_id, date_day, spend, impressions, clicks from marts.fct_ad_performance_daily "
            "where platform = %s and account_id = %s",
            (platform, account_id),
        )
    )


def truth(world, platform, account_id):
    since = REPORT_DATE - timedelta(days=HISTORY_DAYS - 1)
    rows = world.truth_rows(platform, account_id, since, REPORT_DATE, as_of=REPORT_DATE + timedelta(days=1))
    return sorted((r["campaign_id"], r["date"], round(r["spend"], 2), r["impressions"], r["clicks"]) for r in rows)


def test_the_faulted_run_ends_in_the_documented_state(stack, world, faulted_run):
    assert not faulted_run.succeeded  # an account needs a person: the run is red
    states = {
        (p, a): (s, e)
        for p, a, s, e in stack.query("select platform, account_id, status, last_error from ops.sync_state")
    }
    assert states[("meta", "1000000001")][0] == "ok"  # throttled past the budget, the task's retry got it
    assert states[("meta", "2000000002")][0] == "reauth_required"
    assert states[("google_ads", "1234567890")][0] == "incomplete"  # token refreshed; 2 rows quarantined
    assert states[("google_ads", "2345678901")][0] == "ok"  # 5xx burst retried by the HTTP layer
    assert "needs re-authorisation" in faulted_run.output or "reauth" in faulted_run.output
    # What could be fetched reached the marts; the revoked account has nothing yet.
    assert fact(stack, "meta", "1000000001") == truth(world, "meta", "1000000001")
    assert fact(stack, "meta", "2000000002") == []
    google = fact(stack, "google_ads", "1234567890")
    expected = truth(world, "google_ads", "1234567890")
    assert len(google) == len(expected) - 2 and set(google) <= set(expected)
    # Bad rows are in quarantine with reasons and payloads.
    quarantined = stack.query("select reason, payload from ops.quarantine where account_id = '1234567890'")
    assert len(quarantined) == 2
    assert all(r.startswith("spend is negative") and json.loads(p)["metrics"]["costMicros"].startswith("-") for r, p in quarantined)
    # One re-authorisation alert, and the consistency check's own alert for the spend without metrics.
    alerts = stack.query("select metric, entity_id, date_day, status from ops.alert_log where metric <> 'spend'")
    metrics = [a[0] for a in alerts]
    assert metrics.count("reauth_required") == 1
    assert ("spend_without_metrics", REPORT_DATE) in {(m, d) for m, _, d, _ in alerts}
    assert "data_incomplete" in metrics


def test_the_next_clean_run_equals_a_run_that_never_saw_a_fault(stack, world, faulted_run, clean_run):
    for platform, account_id in ACCOUNTS:
        assert fact(stack, platform, account_id) == truth(world, platform, account_id), (platform, account_id)
    for table in ("raw.meta__insights", "raw.google_ads__campaign_performance"):
        total, distinct = stack.query(
            f"select count(*), count(distinct (account_id, report_date, payload::text)) from {table}"
        )[0]
        assert total == distinct
    assert {s for (s,) in stack.query("select status from ops.sync_state")} == {"ok"}
    assert stack.query("select count(*) from ops.alert_log where metric = 'reauth_required'")[0][0] == 1
    assert stack.query("select count(*) from dq.assert_no_spend_without_metrics")[0][0] == 0


def _secrets(stack) -> dict[str, str]:
    creds = stack.credentials
    out = {
        "meta access token": creds["meta"]["access_token"],
        "google refresh token": creds["google_ads"]["refresh_token"],
        "google client secret": creds["google_ads"]["client_secret"],
        "google developer token": creds["google_ads"]["developer_token"],
        "warehouse password": stack.pg_server.password,
    }
    for key, value in stack.env.items():
        if key.startswith("AIRFLOW_CONN_WAREHOUSE_"):
            out[key] = json.loads(value)["password"]
    return out


def test_no_secret_reaches_logs_xcom_lake_ops_tables_or_alerts(stack, faulted_run):
    secrets = _secrets(stack)
    issued = list(stack.sandbox._tokens)  # Google access tokens the sandbox handed out in the run
    haystacks: dict[str, str] = {"dags test output": faulted_run.output}
    home = Path(stack.env["AIRFLOW_HOME"])
    for path in list(home.rglob("*.log")) + list((home / "logs").rglob("*")):
        if path.is_file():
            haystacks[str(path)] = path.read_text(errors="replace")
    db = sqlite3.connect(home / "airflow.db")
    try:
        haystacks["xcom"] = "\n".join(str(r) for r in db.execute("select * from xcom"))
        haystacks["task instances"] = "\n".join(str(r) for r in db.execute("select * from task_instance"))
    finally:
        db.close()
    lake = Path(stack.env["ADS_ELT_LAKE_ROOT"].removeprefix("file://"))
    lake_files = [p for p in lake.rglob("*") if p.is_file()]
    assert lake_files
    for path in lake_files:
        haystacks[str(path)] = path.read_bytes().decode("utf-8", "replace")
    for (table,) in stack.query("select table_name from information_schema.tables where table_schema = 'ops'"):
        rows = stack.query(f'select t::text from ops."{table}" t')
        haystacks[f"ops.{table}"] = "\n".join(r[0] for r in rows)
    assert haystacks["ops.alert_log"] and "xcom" in haystacks
    for name, value in list(secrets.items()) + [(f"issued token {i}", t) for i, t in enumerate(issued)]:
        leaks = [where for where, text in haystacks.items() if value in text]
        assert not leaks, f"{name} found in {leaks}"
