"""End to end through `airflow dags test`: one run with a mix of faults across accounts, then a clean run.

The session's small world (tests/e2e_worlds.py). Run 1 (first sync, 30 days): Meta 1000000001 is throttled past the retry
budget once (the task's own retry gets it), Meta 2000000002's access is revoked,
Google 1234567890's token expires (refreshed) and it sends negative spend,
Google 2345678901 has a 5xx burst and reports spend without metrics on the
report date. Run 2: no faults. The secret-leak check greps everything run 1
left behind.
"""

from __future__ import annotations

import json
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest
from e2e_worlds import FIRST_TODAY, REPORT_DATE, SMALL_HISTORY_DAYS

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("small")]

ACCOUNTS = (("meta", "1000000001"), ("meta", "2000000002"), ("google_ads", "1234567890"), ("google_ads", "2345678901"))


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
    since = REPORT_DATE - timedelta(days=SMALL_HISTORY_DAYS - 1)
    rows = world.truth_rows(platform, account_id, since, REPORT_DATE, as_of=FIRST_TODAY)
    return sorted((r["campaign_id"], r["date"], round(r["spend"], 2), r["impressions"], r["clicks"]) for r in rows)


def test_the_faulted_run_ends_in_the_documented_state(small):
    stack, world, faulted_run = small.faulted, small.world, small.faulted.run
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


def test_the_next_clean_run_equals_a_run_that_never_saw_a_fault(small):
    stack, world, clean_run = small.clean, small.world, small.clean.run
    assert clean_run.succeeded, clean_run.output[-6000:]
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


def test_no_secret_reaches_logs_xcom_lake_ops_tables_or_alerts(small):
    stack = small.stack
    secrets = _secrets(stack)
    issued = small.issued_tokens  # access tokens the sandbox handed out in the two runs
    haystacks: dict[str, str] = {"dags test output": small.faulted.run.output, "clean run output": small.clean.run.output}
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
