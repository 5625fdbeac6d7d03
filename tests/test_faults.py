"""Every fault the sandbox injects, below Airflow: adapters + HTTP layer + validation + loader + sync state.

Each case: a clean sync, a sync of the same day with the fault on one account,
then a clean sync. After the faulted sync the account is in the documented
state and holds what could be fetched; after the clean one its raw rows equal
the world's numbers exactly (nothing lost, nothing duplicated) and its sync
state is whole again. The pipeline functions run as the DAG's tasks do, with
the Connections supplied as AIRFLOW_CONN_* variables.
"""

from __future__ import annotations

import json
import threading
from datetime import date, timedelta

import psycopg2
import pytest

REPORT_DATE = date(2026, 11, 20)
HISTORY_DAYS = 8
LOOKBACK = 3
META, GOOGLE = ("meta", "1000000001"), ("google_ads", "1234567890")
RAW = {"meta": "raw.meta__insights", "google_ads": "raw.google_ads__campaign_performance"}

REGISTRY = f"""
version: 1
defaults:
  initial_history_days: {HISTORY_DAYS}
  lookback_days: {{meta: {LOOKBACK}, google_ads: {LOOKBACK}}}
workspaces:
  - id: northwind_us
    name: Northwind Outdoor
    currency: USD
    timezone: America/New_York
    accounts:
      - {{platform: meta, account_id: "1000000001"}}
      - {{platform: google_ads, account_id: "1234567890"}}
"""


@pytest.fixture(scope="module")
def world():
    from sandbox.world import World

    return World.demo(REPORT_DATE)


@pytest.fixture(scope="module")
def sandbox(world):
    from sandbox.server import SandboxServer

    with SandboxServer(world, today=REPORT_DATE + timedelta(days=1)) as server:
        yield server


@pytest.fixture
def env(pg_server, sandbox, tmp_path, monkeypatch):
    """A fresh warehouse and lake, the sandbox's Connections, a fast retry policy."""
    from stack import connections_env

    dbname = pg_server.create_database("faults")
    creds = sandbox.credentials
    for key, value in connections_env(pg_server.port, pg_server.password, dbname, sandbox.url, creds).items():
        if key.startswith("AIRFLOW_CONN_WAREHOUSE_") or key == "ADS_ELT_DBT_CONN_ID":
            continue  # the roles have their own tests; here the pipeline runs as the administrator
        monkeypatch.setenv(key, value)
    registry = tmp_path / "workspaces.yml"
    registry.write_text(REGISTRY)
    monkeypatch.setenv("ADS_ELT_REGISTRY", str(registry))
    monkeypatch.setenv("ADS_ELT_LAKE_ROOT", f"file://{tmp_path / 'lake'}")
    monkeypatch.setenv("ADS_ELT_HTTP_BACKOFF_BASE", "0.01")
    monkeypatch.setenv("ADS_ELT_HTTP_BACKOFF_MAX", "0.05")
    monkeypatch.setenv("ADS_ELT_HTTP_MAX_TOTAL_WAIT", "3")
    monkeypatch.setenv("ADS_ELT_HTTP_READ_TIMEOUT", "1")
    sandbox.clear_faults()
    sandbox.reset_stats()
    from ads_elt.ingestion.pipeline import prepare

    prepare(REPORT_DATE)
    yield pg_server.dsn(dbname)
    sandbox.clear_faults()


def sync(platform: str, run_id: str) -> dict[str, str]:
    """plan -> extract -> load for every account of `platform`; returns the outcome per account."""
    from ads_elt.ingestion import pipeline

    outcome = {}
    for scope in pipeline.plan(platform, REPORT_DATE, run_id):
        try:
            batch = pipeline.extract(scope)
            result = pipeline.load(batch)
            outcome[scope.account_id] = "incomplete" if result["issues"] and "missing" in result["issues"] else "loaded"
        except Exception as exc:  # noqa: BLE001 - the test inspects the type
            outcome[scope.account_id] = type(exc).__name__
    return outcome


def query(dsn: str, sql: str, params: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def raw_numbers(dsn: str, platform: str, account_id: str) -> list[tuple]:
    """(campaign, day, spend, impressions, clicks) per raw row, from the payload as sent."""
    if platform == "meta":
        expr = "payload->>'campaign_id', report_date, (payload->>'spend')::numeric, (payload->>'impressions')::bigint, (payload->>'clicks')::bigint"
    else:
        expr = (
            "payload->'campaign'->>'id', report_date, coalesce((payload->'metrics'->>'costMicros')::numeric, 0) / 1000000, "
            "coalesce((payload->'metrics'->>'impressions')::bigint, 0), coalesce((payload->'metrics'->>'clicks')::bigint, 0)"
        )
    rows = query(dsn, f"select {expr} from {RAW[platform]} where account_id = %s", (account_id,))
    return sorted((c, d, round(float(s), 2), i, k) for c, d, s, i, k in rows)


def truth_numbers(world, platform: str, account_id: str) -> list[tuple]:
    since = REPORT_DATE - timedelta(days=HISTORY_DAYS - 1)
    rows = world.truth_rows(platform, account_id, since, REPORT_DATE, as_of=REPORT_DATE + timedelta(days=1))
    return sorted(
        (r["campaign_id"], r["date"], round(r["spend"], 2), r["impressions"], r["clicks"]) for r in rows
    )


def state(dsn: str, platform: str, account_id: str) -> tuple:
    return query(
        dsn,
        "select status, last_success_window_end, last_error from ops.sync_state where platform = %s and account_id = %s",
        (platform, account_id),
    )[0]


# (case id, account, fault kind, fault params, outcome of the faulted sync, sync state status after it)
CASES = [
    ("429_without_retry_after", GOOGLE, "http_429", {"count": 2}, "loaded", "ok"),
    ("429_with_retry_after", META, "http_429", {"count": 1, "retry_after": 1}, "loaded", "ok"),
    ("meta_17_as_http_400", META, "rate_limited", {"count": 1, "code": 17, "retry_after": 600}, "PlatformSyncError", "failed"),
    ("meta_80000_as_http_400", META, "rate_limited", {"count": 1, "retry_after": 600}, "PlatformSyncError", "failed"),
    ("google_resource_exhausted_short", GOOGLE, "rate_limited", {"count": 1, "retry_after": 1}, "loaded", "ok"),
    ("google_resource_exhausted_long", GOOGLE, "rate_limited", {"count": 1, "retry_after": 8962}, "PlatformSyncError", "failed"),
    ("5xx_burst", GOOGLE, "http_500", {"count": 2, "status": 503}, "loaded", "ok"),
    ("5xx_outage", META, "http_500", {"count": None}, "PlatformSyncError", "failed"),
    ("slow_past_timeout", META, "slow", {"count": 1, "seconds": 2.5}, "loaded", "ok"),
    ("connection_reset_mid_page", META, "connection_reset", {"count": 1}, "loaded", "ok"),
    ("connection_reset_always", GOOGLE, "connection_reset", {"count": None}, "PlatformSyncError", "failed"),
    ("truncated_json_once", GOOGLE, "garbage", {"count": 1, "variant": "truncated"}, "loaded", "ok"),
    ("invalid_json_always", META, "garbage", {"count": None, "variant": "invalid_json"}, "AirflowFailException", "failed"),
    ("google_401_refreshed", GOOGLE, "auth_expired", {"count": 1}, "loaded", "ok"),
    ("meta_190_463_expired", META, "auth_expired", {"count": None}, "AirflowFailException", "reauth_required"),
    ("meta_190_458_revoked", META, "auth_revoked", {"count": None}, "AirflowFailException", "reauth_required"),
    ("google_revoked", GOOGLE, "auth_revoked", {"count": None}, "AirflowFailException", "reauth_required"),
    ("negative_spend", META, "bad_data", {"count": 1, "variant": "negative_spend", "rows": 2}, "loaded", "incomplete"),
    ("clicks_over_impressions", GOOGLE, "bad_data", {"count": 1, "variant": "clicks_over_impressions"}, "loaded", "incomplete"),
    ("duplicate_rows", GOOGLE, "bad_data", {"count": 1, "variant": "duplicate_rows", "rows": 3}, "loaded", "ok"),
    ("missing_day", META, "bad_data", {"count": 1, "variant": "missing_day"}, "incomplete", "incomplete"),
]


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_fault_ends_in_its_documented_state_and_the_next_clean_run_completes(case, env, sandbox, world):
    name, (platform, account_id), kind, params, expected_outcome, expected_status = case
    other_platform, other_account = GOOGLE if platform == "meta" else META
    assert sync(platform, "clean_1")[account_id] == "loaded"
    sync(other_platform, "clean_1")
    before = raw_numbers(env, platform, account_id)
    assert before == truth_numbers(world, platform, account_id)

    params = dict(params)
    sandbox.add_fault(kind, platform=platform, account_id=account_id, count=params.pop("count"), **params)
    outcome = sync(platform, "faulted")
    other = sync(other_platform, "faulted")
    sandbox.clear_faults()

    assert outcome[account_id] == expected_outcome, name
    status, through, error = state(env, platform, account_id)
    assert status == expected_status, (name, error)
    assert all(v == "loaded" for v in other.values()), "a fault on one account never stops the others"
    after_fault = raw_numbers(env, platform, account_id)
    # Nothing duplicated, and every row held is the platform's true number or a row kept from before.
    assert len(after_fault) == len({(c, d) for c, d, *_ in after_fault}), name
    truth = truth_numbers(world, platform, account_id)
    assert set(map(repr, after_fault)) <= set(map(repr, truth)) | set(map(repr, before))
    if expected_status in ("failed", "reauth_required"):
        assert after_fault == before, "a failed sync leaves the loaded data untouched"
        assert through == REPORT_DATE, "the sync state's window did not move"
        assert account_id in error
    if expected_status == "incomplete":
        assert through < REPORT_DATE, "the state stops before the first day that did not arrive whole"

    # The next clean run completes the missing windows: raw equals a run that never saw the fault.
    assert sync(platform, "clean_2")[account_id] == "loaded"
    assert raw_numbers(env, platform, account_id) == truth
    status, through, error = state(env, platform, account_id)
    assert (status, through, error) == ("ok", REPORT_DATE, None)


def test_bad_rows_are_quarantined_with_reason_and_payload_and_their_siblings_load(env, sandbox, world):
    sync("meta", "clean_1")
    sandbox.add_fault("bad_data", platform="meta", account_id=META[1], count=1, variant="negative_spend", rows=2)
    result = sync("meta", "faulted")
    assert result[META[1]] == "loaded"
    rows = query(
        env,
        "select check_name, reason, payload, report_date from ops.quarantine where sync_run_id = 'faulted' order by id",
    )
    assert len(rows) == 2
    for check, reason, payload, day in rows:
        record = json.loads(payload)
        assert check == "negative_value" and reason.startswith("spend is negative (-")
        assert float(record["spend"]) < 0 and record["date_start"] == day.isoformat()
    bad_keys = {(json.loads(p)["campaign_id"], d) for _, _, p, d in rows}
    loaded = {(c, d) for c, d, *_ in raw_numbers(env, "meta", META[1])}
    day = rows[0][3]
    siblings = {(r["campaign_id"], r["date"]) for r in world.truth_rows("meta", META[1], day, day)} - bad_keys
    assert siblings and siblings <= loaded
    assert not bad_keys & loaded


def test_a_batch_failing_wholesale_is_not_loaded_and_the_state_does_not_move(env, sandbox, world):
    sync("google_ads", "clean_1")
    before = raw_numbers(env, "google_ads", GOOGLE[1])
    sandbox.add_fault("bad_data", platform="google_ads", account_id=GOOGLE[1], count=1, variant="negative_spend", rows=1000)
    assert sync("google_ads", "faulted")[GOOGLE[1]] == "AirflowFailException"
    assert raw_numbers(env, "google_ads", GOOGLE[1]) == before
    status, through, error = state(env, "google_ads", GOOGLE[1])
    assert status == "failed" and through == REPORT_DATE and "rejected by validation" in error
    assert query(env, "select status from ops.sync_runs where sync_run_id = 'faulted' and account_id = %s", (GOOGLE[1],)) == [
        ("rejected",)
    ]
    assert query(env, "select count(*) from ops.quarantine where sync_run_id = 'faulted'")[0][0] > 0


def test_an_account_failing_for_three_days_catches_up_in_full(env, sandbox, world):
    from ads_elt.ingestion import pipeline

    sync("meta", "clean_1")
    conn = psycopg2.connect(env)
    with conn, conn.cursor() as cur:  # as if it last synced 3 days before the report date
        cur.execute(
            "update ops.sync_state set last_success_window_end = %s where account_id = %s", (REPORT_DATE - timedelta(days=3), META[1])
        )
        cur.execute("delete from raw.meta__insights where report_date > %s", (REPORT_DATE - timedelta(days=3),))
    conn.close()
    scope = next(s for s in pipeline.plan("meta", REPORT_DATE, "catch_up") if s.account_id == META[1])
    assert scope.window_start <= REPORT_DATE - timedelta(days=3 + LOOKBACK)
    assert sync("meta", "catch_up")[META[1]] == "loaded"
    assert raw_numbers(env, "meta", META[1]) == truth_numbers(world, "meta", META[1])


def test_the_run_summary_names_the_accounts_behind_and_by_how_long(env, sandbox):
    from ads_elt.ingestion import pipeline

    sync("meta", "run_a")
    sync("google_ads", "run_a")
    sandbox.add_fault("http_500", platform="google_ads", account_id=GOOGLE[1], count=None)
    sync("meta", "run_b")
    sync("google_ads", "run_b")
    with pytest.raises(Exception, match=r"1 account\(s\) did not sync: google_ads 1234567890 \(failed\)"):
        pipeline.run_summary("run_b", REPORT_DATE + timedelta(days=2))
    conn = psycopg2.connect(env)
    with conn, conn.cursor() as cur:
        cur.execute("update ops.sync_runs set status = 'loaded' where sync_run_id = 'run_b'")
    conn.close()
    summary = pipeline.run_summary("run_b", REPORT_DATE + timedelta(days=2))
    behind = {b["account_id"]: b for b in summary["behind"]}
    assert behind[GOOGLE[1]]["days_behind"] == 2 and behind[GOOGLE[1]]["status"] == "failed"
    assert "HTTP 500" in behind[GOOGLE[1]]["last_error"] and behind[GOOGLE[1]]["failing_since"]


def test_a_revoked_account_alerts_once_and_the_others_complete(env, sandbox):
    sandbox.add_fault("auth_revoked", platform="meta", account_id=META[1], count=None)
    for run in ("day_1", "day_2"):
        assert sync("meta", run)[META[1]] == "AirflowFailException"
        assert sync("google_ads", run)[GOOGLE[1]] == "loaded"
    alerts = query(env, "select alert_key, status, message from ops.alert_log where metric = 'reauth_required'")
    assert len(alerts) == 1
    key, status, message = alerts[0]
    assert key.startswith(f"northwind_us|meta|{META[1]}|reauth_required|") and status == "sent"
    assert "needs re-authorisation" in message and "Airflow Connection" in message
    assert state(env, "meta", META[1])[0] == "reauth_required"
    sandbox.clear_faults()
    assert sync("meta", "day_3")[META[1]] == "loaded"
    assert state(env, "meta", META[1])[0] == "ok"


def test_an_expired_google_token_is_refreshed_without_failing(env, sandbox):
    sync("google_ads", "first")
    sandbox.expire_tokens()
    sandbox.add_fault("auth_expired", platform="google_ads", account_id=GOOGLE[1], count=1)
    assert sync("google_ads", "again")[GOOGLE[1]] == "loaded"
    assert sandbox.stats()["google_ads"]["endpoints"]["token"] >= 2


def test_the_platform_gate_keeps_concurrency_within_the_limit(sandbox, monkeypatch):
    from adapters import pacing
    from adapters.meta import MetaInsightsClient

    monkeypatch.setattr(pacing, "_GATES", {})
    monkeypatch.setenv("ADS_ELT_META_MAX_CONCURRENCY", "2")
    monkeypatch.setenv("ADS_ELT_META_MIN_INTERVAL", "0")
    sandbox.reset_stats()
    sandbox.add_fault("slow", platform="meta", count=None, seconds=0.3)
    try:
        token = sandbox.credentials["meta"]["access_token"]
        errors = []

        def pull():
            try:
                list(MetaInsightsClient(sandbox.meta_url, token).fetch_insights(META[1], REPORT_DATE, REPORT_DATE))
            except Exception as exc:  # noqa: BLE001
                errors.append(exc)

        threads = [threading.Thread(target=pull) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sandbox.clear_faults()
    assert not errors
    stats = sandbox.stats()["meta"]
    assert stats["requests"] == 6 and stats["max_in_flight"] == 2


def test_freshness_fails_the_task_when_raw_data_is_stale(env):
    from ads_elt.ingestion import pipeline

    sync("meta", "fresh")
    sync("google_ads", "fresh")
    assert pipeline.freshness()["status"] == "pass"
    conn = psycopg2.connect(env)
    with conn, conn.cursor() as cur:
        cur.execute("update raw.google_ads__campaign_performance set extracted_at = now() - interval '60 hours'")
    conn.close()
    with pytest.raises(Exception, match=r"stale past its error threshold: google_ads.campaign_performance \(60"):
        pipeline.freshness()
