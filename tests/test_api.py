"""The reporting service (api/) as a real uvicorn process on the demo world's warehouse after its first run.

Every endpoint's numbers against the marts (the campaign grain as built, the other grains
recomputed here from the fact), tenant isolation, bad input, the cache's ETags, the rate
limit, acknowledging through the API holding the series back in the next alerts run, and
the sync endpoints without Airflow. The browser's view of the same server is in
tests/test_dashboard.py; syncs through a real Airflow in tests/test_api_sync.py.
"""

from __future__ import annotations

import hashlib
import math
import subprocess
import sys
from collections import defaultdict
from datetime import date, timedelta

import psycopg2
import pytest
from api_harness import OTHER, REPO, WS
from e2e_worlds import REPORT_DATE

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("demo")]

START = REPORT_DATE - timedelta(days=6)


@pytest.fixture
def api(reporting_api):
    """The service on a copy of the demo world's warehouse after its first run (tests/conftest.py)."""
    return reporting_api


def close(a, b, rel=1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=1e-9)


def ratio(num, den, factor=1.0):
    return None if not den else float(num) * factor / float(den)


# --------------------------------------------------------------------------- numbers


def test_each_mart_build_is_recorded_for_the_cache_key(api):
    (builds,) = api.query("select count(*) from marts.build_log")[0]
    assert builds >= 1  # written by dbt's on-run-end in the DAG run's dbt tasks
    assert api.get("/healthz").json()["marts_built"] != "never"


def test_campaign_kpis_equal_the_mart(api):
    r = api.get(f"/v1/workspaces/{WS}/kpis", api.tokens[WS], params={"from": START.isoformat(), "to": REPORT_DATE.isoformat()})
    assert r.status_code == 200, r.text
    rows = r.json()["rows"]
    from api.queries import CAMPAIGN_COLUMNS

    mart = api.query(
        f"select {', '.join(CAMPAIGN_COLUMNS)} from marts.mart_campaign_kpis_daily where workspace_id = %s "
        "and date_day between %s and %s order by date_day, platform, account_id, campaign_id",
        (WS, START, REPORT_DATE),
    )
    assert len(rows) == len(mart) > 7
    for got, want in zip(rows, mart, strict=True):
        for name, value in zip(CAMPAIGN_COLUMNS, want, strict=True):
            if isinstance(value, (str, date)):
                assert got[name] == (value.isoformat() if isinstance(value, date) else value), name
            else:
                assert close(got[name], value), (name, got[name], value)


def fact_rows(api, ws: str) -> list[tuple]:
    return api.query(
        "select date_day, platform, account_id, spend, spend_reporting, impressions, clicks, conversions, conversion_value, "
        "conversion_value_reporting from marts.fct_ad_performance_daily where workspace_id = %s and date_day between %s and %s",
        (ws, START - timedelta(days=27), REPORT_DATE),
    )


def expected(api, ws: str, grain: str) -> dict[tuple, dict]:
    """Daily sums per grain key, their 7- and 28-day calendar windows, and every ratio from those sums."""
    local = grain == "account"
    sums: dict[tuple, dict[date, list[float]]] = defaultdict(lambda: defaultdict(lambda: [0.0] * 5))
    for d, platform, account, spend, spend_r, imp, clicks, conv, value, value_r in fact_rows(api, ws):
        key = {"account": (platform, account), "platform": (platform,), "workspace": ()}[grain]
        s = sums[key][d]
        for i, v in enumerate((spend if local else spend_r, imp, clicks, conv, value if local else value_r)):
            s[i] += float(v or 0)
    out = {}
    for key, days in sums.items():
        for d in days:
            if d < START:
                continue
            row = {}
            for suffix, n in (("", 1), ("_7d", 7), ("_28d", 28)):
                spend, imp, clicks, conv, value = (
                    sum(days[d - timedelta(days=k)][i] for k in range(n) if d - timedelta(days=k) in days) for i in range(5)
                )
                row.update(
                    {
                        f"spend{suffix}": spend, f"impressions{suffix}": imp, f"clicks{suffix}": clicks,
                        f"conversions{suffix}": conv, f"conversion_value{suffix}": value,
                        f"ctr{suffix}": ratio(clicks, imp), f"cpc{suffix}": ratio(spend, clicks),
                        f"cpm{suffix}": ratio(spend, imp, 1000), f"cvr{suffix}": ratio(conv, clicks),
                        f"cpa{suffix}": ratio(spend, conv), f"roas{suffix}": ratio(value, spend), f"acos{suffix}": ratio(spend, value),
                    }
                )  # fmt: skip
            out[(d.isoformat(), *key)] = row
    return out


@pytest.mark.parametrize("grain", ["account", "platform", "workspace"])
def test_kpis_at_every_grain_are_ratios_of_the_facts_sums(api, grain):
    r = api.get(
        f"/v1/workspaces/{WS}/kpis", api.tokens[WS], params={"grain": grain, "from": START.isoformat(), "to": REPORT_DATE.isoformat()}
    )
    assert r.status_code == 200, r.text
    keys = {"account": ("platform", "account_id"), "platform": ("platform",), "workspace": ()}[grain]
    got = {(row["date_day"], *(row[k] for k in keys)): row for row in r.json()["rows"]}
    want = expected(api, WS, grain)
    assert set(got) == set(want) and len(want) >= 7
    for key, row in want.items():
        for name, value in row.items():
            assert close(got[key][name], value), (key, name, got[key][name], value)


def test_workspace_kpis_carry_the_stores_blended_roas_of_the_workspace_mart(api):
    rows = api.get(f"/v1/workspaces/{WS}/kpis", api.tokens[WS], params={"grain": "workspace", "from": START.isoformat()}).json()["rows"]
    mart = dict(
        (d.isoformat(), (spend, blended))
        for d, spend, blended in api.query(
            "select date_day, spend, blended_roas from marts.mart_workspace_kpis_daily where workspace_id = %s and platform = 'all' "
            "and date_day between %s and %s",
            (WS, START, REPORT_DATE),
        )
    )
    assert {r["date_day"] for r in rows} == set(mart)
    for r in rows:
        spend, blended = mart[r["date_day"]]
        assert close(r["spend"], spend, 1e-6) and close(r["blended_roas"], blended)


def test_anomalies_alerts_recommendations_and_sync_status_equal_their_tables(api):
    token, params = api.tokens[WS], {"from": START.isoformat(), "to": REPORT_DATE.isoformat()}
    anomalies = api.get(f"/v1/workspaces/{WS}/anomalies", token, params=params).json()["rows"]
    want = api.query(
        "select anomaly_id, robust_z from marts.mart_anomalies where workspace_id = %s and is_anomaly and date_day between %s and %s",
        (WS, START, REPORT_DATE),
    )
    assert {(a["anomaly_id"], round(a["robust_z"], 9)) for a in anomalies} == {(i, round(z, 9)) for i, z in want}
    every = api.get(f"/v1/workspaces/{WS}/anomalies", token, params={**params, "all": "true"}).json()["rows"]
    (scored,) = api.query(
        "select count(*) from marts.mart_anomalies where workspace_id = %s and date_day between %s and %s", (WS, START, REPORT_DATE)
    )[0]
    assert len(every) == scored > len(anomalies)

    alerts = api.get(f"/v1/workspaces/{WS}/alerts", token, params=params).json()["rows"]
    want = api.query(
        "select a.alert_id, coalesce(l.state, 'open') from marts.mart_alerts a left join ops.alert_log l using (alert_key) "
        "where a.workspace_id = %s and a.date_day between %s and %s",
        (WS, START, REPORT_DATE),
    )
    assert {(a["alert_id"], a["state"]) for a in alerts} == set(want) and want

    recs = api.get(f"/v1/workspaces/{WS}/recommendations", token).json()["rows"]
    want = api.query(
        "select recommendation_id, recommended_daily_budget from marts.mart_budget_recommendations where workspace_id = %s "
        "and date_day = (select max(date_day) from marts.mart_budget_recommendations where workspace_id = %s)",
        (WS, WS),
    )
    assert {(r["recommendation_id"], None if r["recommended_daily_budget"] is None else round(r["recommended_daily_budget"], 6)) for r in recs} == {
        (i, None if b is None else round(float(b), 6)) for i, b in want
    }

    accounts = api.get(f"/v1/workspaces/{WS}/sync-status", token).json()["accounts"]
    want = api.query(
        "select platform, account_id, status, last_success_window_end from ops.sync_state where workspace_id = %s", (WS,)
    )
    assert {(a["platform"], a["account_id"], a["status"], a["data_through"]) for a in accounts} == {
        (p, a, s, d.isoformat()) for p, a, s, d in want
    }
    assert len(accounts) >= 4


# --------------------------------------------------------------------------- access


def test_a_workspace_token_sees_only_its_workspace_and_learns_nothing_of_others(api):
    mine, theirs, admin = api.tokens[WS], api.tokens[OTHER], api.tokens[None]
    own = api.get(f"/v1/workspaces/{WS}/sync-status", mine)
    assert own.status_code == 200
    other = api.get(f"/v1/workspaces/{OTHER}/sync-status", mine)
    missing = api.get("/v1/workspaces/no_such_workspace/sync-status", mine)
    assert other.status_code == missing.status_code == 404
    assert other.json() == {"detail": f"workspace '{OTHER}' not found"}
    assert missing.json() == {"detail": "workspace 'no_such_workspace' not found"}
    (their_alert,) = api.query("select alert_id from marts.mart_alerts where workspace_id = %s limit 1", (OTHER,))[0]
    for path in (f"/v1/workspaces/{OTHER}/alerts/{their_alert}/ack", f"/v1/workspaces/{WS}/alerts/{their_alert}/ack"):
        r = api.post(path, mine)
        assert r.status_code == 404, (path, r.text)
    assert api.query("select count(*) from ops.alert_log where alert_id = %s and state <> 'open'", (their_alert,))[0][0] == 0
    assert api.get("/v1/workspaces", mine).json() == {"workspaces": [WS]}
    assert set(api.get("/v1/workspaces", admin).json()["workspaces"]) >= {WS, OTHER, "harbor_uk", "souq_sa"}
    assert api.get(f"/v1/workspaces/{OTHER}/sync-status", theirs).status_code == 200
    assert api.get(f"/v1/workspaces/{OTHER}/sync-status", admin).status_code == 200
    assert api.get(f"/v1/workspaces/{WS}/kpis").status_code == 401
    assert api.get(f"/v1/workspaces/{WS}/kpis", "ads_00000000_forged").status_code == 401


def test_tokens_are_printed_once_and_kept_only_as_a_hash(api):
    env = api.env
    done = subprocess.run(
        [sys.executable, "-m", "api", "token", "create", "--workspace", WS, "--label", "cli"],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    token_id = token.split("_")[1]
    assert f"token {token_id} for workspace {WS}" in done.stderr
    stored = api.query("select token_sha256, workspace_id, label from ops.api_tokens where token_id = %s", (token_id,))
    assert stored == [(hashlib.sha256(token.encode()).hexdigest(), WS, "cli")]
    (leaks,) = api.query("select count(*) from ops.api_tokens where token_sha256 = %s or label = %s", (token, token))[0]
    assert leaks == 0
    assert api.get(f"/v1/workspaces/{WS}/sync-status", token).status_code == 200
    revoked = subprocess.run(
        [sys.executable, "-m", "api", "token", "revoke", token_id], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert revoked.returncode == 0, revoked.stderr
    assert api.get(f"/v1/workspaces/{WS}/sync-status", token).status_code == 401
    unknown = subprocess.run(
        [sys.executable, "-m", "api", "token", "create", "--workspace", "nowhere"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert unknown.returncode == 1 and "no workspace 'nowhere'" in unknown.stderr


def test_the_service_refuses_to_run_as_a_superuser(api):
    env = {**api.env, "AIRFLOW_CONN_WAREHOUSE_API": api.env["AIRFLOW_CONN_WAREHOUSE"]}  # the administrator's login
    done = subprocess.run(
        [sys.executable, "-m", "api", "serve", "--port", "9"], cwd=REPO, env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 2 and "superuser" in done.stderr, done.stderr


def test_a_token_over_its_rate_gets_429_with_retry_after(api):
    token = api.token(WS, "rate")
    served = 0
    for _ in range(400):
        r = api.get(f"/v1/workspaces/{WS}/sync-status", token)
        if r.status_code == 429:
            break
        assert r.status_code == 200
        served += 1
    assert r.status_code == 429 and served >= 200, served  # the server allows 240 a minute
    assert int(r.headers["Retry-After"]) >= 1
    assert api.get(f"/v1/workspaces/{WS}/sync-status", api.tokens[WS]).status_code == 200  # other tokens are not held back


# --------------------------------------------------------------------------- bad input


@pytest.mark.parametrize(
    ("params", "parameter"),
    [
        ({"from": "2026-02-30"}, "from"),
        ({"to": "yesterday"}, "to"),
        ({"from": "2026-11-20", "to": "2026-11-01"}, "from"),
        ({"from": "2025-01-01", "to": "2026-11-20"}, "to"),
        ({"grain": "week"}, "grain"),
        ({"grain": "account", "campaign": "1"}, "campaign"),
    ],
)
def test_bad_parameters_answer_422_naming_the_parameter(api, params, parameter):
    r = api.get(f"/v1/workspaces/{WS}/kpis", api.tokens[WS], params=params)
    assert r.status_code == 422 and r.json()["parameter"] == parameter, r.text
    assert parameter in r.json()["detail"]


def test_unknown_campaigns_alerts_and_accounts_answer_404(api):
    token = api.tokens[WS]
    r = api.get(f"/v1/workspaces/{WS}/kpis", token, params={"platform": "meta", "campaign": "999"})
    assert r.status_code == 404 and "campaign" in r.json()["detail"]
    assert api.post(f"/v1/workspaces/{WS}/alerts/{'0' * 32}/ack", token).status_code == 404
    assert api.post(f"/v1/workspaces/{WS}/accounts/meta/999/sync", token).status_code == 404


def test_sql_in_any_parameter_changes_nothing(api):
    token = api.tokens[WS]
    (facts,) = api.query("select count(*) from marts.fct_ad_performance_daily")[0]
    injected = "meta' or '1'='1"
    r = api.get(f"/v1/workspaces/{WS}/kpis", token, params={"platform": injected, "from": START.isoformat()})
    assert r.status_code == 200 and r.json()["rows"] == []
    r = api.get(f"/v1/workspaces/{WS}/alerts", token, params={"platform": injected, "campaign": "x'; drop table marts.fct_ad_performance_daily; --"})
    assert r.status_code == 200 and r.json()["rows"] == []
    assert api.get(f"/v1/workspaces/{WS}' or '1'='1/kpis", api.tokens[None]).status_code == 404
    r = api.get(f"/v1/workspaces/{WS}/kpis", token, params={"platform": "meta", "campaign": "1); delete from ops.api_tokens; --"})
    assert r.status_code == 404
    assert api.query("select count(*) from marts.fct_ad_performance_daily")[0] == (facts,)
    assert api.query("select count(*) from ops.api_tokens")[0][0] >= 3


# --------------------------------------------------------------------------- cache


def test_an_unchanged_answer_is_a_304_until_the_marts_are_built_again(api):
    token, path = api.tokens[WS], f"/v1/workspaces/{WS}/kpis"
    params = {"grain": "platform", "from": START.isoformat()}
    first = api.get(path, token, params=params)
    tag = first.headers["ETag"]
    again = api.get(path, token, params=params, headers={"If-None-Match": tag})
    assert again.status_code == 304 and again.content == b""
    other_query = api.get(path, token, params={**params, "grain": "workspace"})
    assert other_query.headers["ETag"] != tag
    api.query("insert into marts.build_log (invocation_id, models) values ('test-build', 1)")  # as dbt's on-run-end does
    rebuilt = api.get(path, token, params=params, headers={"If-None-Match": tag})
    assert rebuilt.status_code == 200 and rebuilt.headers["ETag"] != tag and rebuilt.json() == first.json()


# --------------------------------------------------------------------------- alert states


def test_acknowledging_through_the_api_holds_the_series_back_in_the_next_alerts_run(api, monkeypatch):
    from test_alerts import FakeSlack

    from ads_elt.alerts import run_alerts, settings_from_registry
    from ads_elt.registry import load_registry

    token = api.tokens[WS]
    sent = api.query(
        "select l.alert_id, l.alert_key, l.metric from ops.alert_log l join marts.mart_alerts a using (alert_key) "
        "where l.workspace_id = %s and l.date_day = %s and l.status = 'sent' and a.entity_type = 'campaign' order by l.alert_key limit 1",
        (WS, REPORT_DATE),
    )
    assert sent, "the demo's first run sends campaign alerts for northwind_us"
    alert_id, alert_key, metric = sent[0]
    r = api.post(f"/v1/workspaces/{WS}/alerts/{alert_id}/ack", token, json={"by": "ana@northwind"})
    assert r.status_code == 200 and r.json()["state"] == "acknowledged" and r.json()["alerts_changed"] >= 1, r.text
    listed = api.get(f"/v1/workspaces/{WS}/alerts", token, params={"state": "acknowledged"}).json()["rows"]
    assert alert_id in {a["alert_id"] for a in listed}
    assert api.query("select state, state_changed_by from ops.alert_log where alert_id = %s", (alert_id,)) == [
        ("acknowledged", "ana@northwind")
    ]

    # the next day's build fires the same series again: the alerts step holds it back
    day2 = REPORT_DATE + timedelta(days=1)
    key2 = alert_key.replace(REPORT_DATE.isoformat(), day2.isoformat())
    columns = [c for (c,) in api.query(
        "select column_name from information_schema.columns where table_schema = 'marts' and table_name = 'mart_alerts' order by ordinal_position"
    )]  # fmt: skip
    select = ", ".join({"date_day": "%s::date", "alert_key": "%s", "alert_id": "md5(%s)"}.get(c, c) for c in columns)
    params = [{"date_day": day2, "alert_key": key2, "alert_id": key2}[c] for c in columns if c in ("date_day", "alert_key", "alert_id")]
    api.query(
        f"insert into marts.mart_alerts ({', '.join(columns)}) select {select} from marts.mart_alerts where alert_key = %s",
        (*params, alert_key),
    )
    for k, v in api.env.items():
        if k.startswith("AIRFLOW_CONN_"):
            monkeypatch.setenv(k, v)
    slack = FakeSlack()
    conn = psycopg2.connect(api.admin_dsn)
    try:
        summary = run_alerts(conn, day2, settings_from_registry(load_registry()), send_slack=slack)
    finally:
        conn.close()
    status = api.query("select status, state, suppressed_by from ops.alert_log where alert_key = %s", (key2,))
    assert status == [("suppressed", "acknowledged", alert_key)], (status, summary)
    assert key2 not in str(slack.calls) and alert_id[:8] not in str(slack.calls)


def test_snoozing_through_the_api_needs_a_day_not_before_the_alert(api):
    token = api.tokens[WS]
    (alert_id, day), = api.query(
        "select alert_id, date_day from ops.alert_log where workspace_id = %s and state = 'open' order by alert_key limit 1", (WS,)
    )
    early = api.post(f"/v1/workspaces/{WS}/alerts/{alert_id}/snooze", token, json={"until": (day - timedelta(days=1)).isoformat()})
    assert early.status_code == 422 and "before the alert's day" in early.json()["detail"]
    bad = api.post(f"/v1/workspaces/{WS}/alerts/{alert_id}/snooze", token, json={"until": "soon"})
    assert bad.status_code == 422 and bad.json()["parameter"] == "until"
    until = day + timedelta(days=3)
    ok = api.post(f"/v1/workspaces/{WS}/alerts/{alert_id}/snooze", token, json={"until": until.isoformat()})
    assert ok.status_code == 200 and ok.json()["state_until"] == until.isoformat()
    assert api.query("select state, state_until from ops.alert_log where alert_id = %s", (alert_id,)) == [("snoozed", until)]


# --------------------------------------------------------------------------- syncs without Airflow


def test_sync_endpoints_answer_503_saying_how_to_start_airflow(api):
    token = api.tokens[WS]
    r = api.post(f"/v1/workspaces/{WS}/sync", token)
    assert r.status_code == 503 and "make ui" in r.json()["detail"], r.text
    (platform, account), = api.query(
        "select platform, account_id from ops.workspace_accounts where workspace_id = %s and active order by 1, 2 limit 1", (WS,)
    )
    r = api.post(f"/v1/workspaces/{WS}/accounts/{platform}/{account}/sync", token)
    assert r.status_code == 503 and "make ui" in r.json()["detail"]
    assert api.post(f"/v1/workspaces/{OTHER}/sync", token).status_code == 404  # isolation first, then Airflow


def test_the_openapi_document_lists_every_endpoint(api):
    paths = api.get("/openapi.json").json()["paths"]
    for path in (
        "/v1/workspaces/{ws}/kpis", "/v1/workspaces/{ws}/anomalies", "/v1/workspaces/{ws}/alerts",
        "/v1/workspaces/{ws}/recommendations", "/v1/workspaces/{ws}/sync-status",
        "/v1/workspaces/{ws}/alerts/{alert_id}/ack", "/v1/workspaces/{ws}/alerts/{alert_id}/snooze",
        "/v1/workspaces/{ws}/sync", "/v1/workspaces/{ws}/accounts/{platform}/{account_id}/sync", "/v1/workspaces/{ws}/sync/{run_id}",
    ):  # fmt: skip
        assert path in paths, path
    assert api.get("/docs").status_code == 200
