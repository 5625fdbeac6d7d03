"""Incremental marts: daily runs rebuild only the days that can have changed, and leave exactly what a full refresh does.

A small world goes through the pipeline's own task bodies (plan, extract, load
into raw through the sandbox APIs) for a few consecutive days: restated days,
a new account whose initial history reaches far behind the lookback, and a
campaign-day the platform stops reporting. After each incremental build the
fact, the KPI mart, the anomaly scores (whose baselines reach 56 days behind
the days they rebuild) and the alerts built on them must equal what
`dbt build --full-refresh` gives.
"""

from __future__ import annotations

import re
import shutil
from datetime import timedelta

import psycopg2
import psycopg2.extras
import pytest
from bench import END_DATE, Warehouse, WorldSize, bench_world, environ, run_dbt, sandbox, sync, write_registry

MARTS = {
    "marts.fct_ad_performance_daily": "date_day, workspace_id, platform, account_id, campaign_id",
    "marts.mart_campaign_kpis_daily": "date_day, workspace_id, platform, account_id, campaign_id",
    "marts.mart_anomalies": "date_day, workspace_id, platform, account_id, campaign_id, entity_type, metric",
    "intermediate.int_alert_rule_inputs": "date_day, workspace_id, platform, account_id, campaign_id",
    "intermediate.int_alert_rule_evaluations": "date_day, workspace_id, platform, campaign_id, rule_id",
    "marts.mart_alerts": "alert_key",
}
INCREMENTAL = ("fct_ad_performance_daily", "mart_campaign_kpis_daily", "mart_anomalies", "int_alert_rule_inputs", "int_alert_rule_evaluations")
# Rows per campaign-day in each mart (mart_anomalies: one per metric; mart_alerts: only the flagged ones).
ROWS_PER_CAMPAIGN_DAY = {
    "marts.fct_ad_performance_daily": 1,
    "marts.mart_campaign_kpis_daily": 1,
    "marts.mart_anomalies": 5,
    "intermediate.int_alert_rule_inputs": 1,
}
# The scenario's days are minutes apart: no safety margin on the load watermark (see macros/incremental.sql).
SELECT = ["build", "--select", "+mart_campaign_kpis_daily", "+mart_alerts", "--indirect-selection", "cautious", "--exclude", "resource_type:unit_test", "--vars", "{incremental_watermark_margin_hours: 0}"]
HISTORY = 40


def snapshot(dsn: str) -> dict[str, list[dict]]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            out = {}
            for table, order in MARTS.items():
                cur.execute(f"select * from {table} order by {order}")
                out[table] = cur.fetchall()
            return out
    finally:
        conn.close()


def changed_from(workdir, model: str) -> str:
    """The first day the last build of `model` rebuilt, from its compiled SQL (None: a full build)."""
    compiled = next((workdir / "target" / "compiled").rglob(f"{model}.sql")).read_text()
    found = re.findall(r"date_day >= (?:cast\()?'(\d{4}-\d{2}-\d{2})'", compiled)
    return min(found) if found else None


@pytest.fixture(scope="module")
def scenario(pg_server, tmp_path_factory):
    size = WorldSize(workspaces=2, accounts=4, campaigns=2, days=120, platforms=("meta", "google_ads"))
    world = bench_world(size)
    late = world.accounts[-1]  # joins the registry on the third day
    home = tmp_path_factory.mktemp("incremental")
    wh = Warehouse.create(pg_server.cluster, home, "incr")
    early_world = bench_world(size)
    early_world.accounts = [a for a in early_world.accounts if a.account_id != late.account_id]
    registry_early = write_registry(early_world, home / "registry-early.yml", HISTORY)
    registry_all = write_registry(world, home / "registry-all.yml", HISTORY)
    steps = []
    parsed = []  # the target folders of the builds so far

    def build_in(workdir, args, env):
        """`dbt build` in `workdir`, starting from the previous build's partial parse (same project, database and
        vars, so dbt re-parses nothing; it would parse in full were anything different)."""
        if parsed:
            (workdir / "target").mkdir(parents=True, exist_ok=True)
            shutil.copy2(parsed[-1] / "target" / "partial_parse.msgpack", workdir / "target" / "partial_parse.msgpack")
        result = run_dbt(args, env, workdir)
        parsed.append(workdir)
        return result

    def day(n: int, registry, before_build=None):
        run_date = END_DATE + timedelta(days=n)
        with sandbox(world, run_date + timedelta(days=1)) as server:
            env = wh.env(server.url, server.credentials, registry)
            with environ(env):
                sync(run_date, size.platforms, concurrency=2)
        if before_build:
            before_build()
        workdir = home / f"day-{n}"
        build = build_in(workdir, SELECT, env)
        assert build["returncode"] == 0, build
        steps.append(
            {
                "run_date": run_date,
                "changed_from": {model: changed_from(workdir, model) for model in INCREMENTAL},
                "marts": snapshot(wh.dsn),
            }
        )
        full = build_in(home / f"day-{n}-full", [*SELECT, "--full-refresh"], env)
        assert full["returncode"] == 0, full
        steps[-1]["full_refresh"] = snapshot(wh.dsn)
        return env

    day(0, registry_early)  # first sync and first build: the whole history
    day(1, registry_early)  # the lookback re-pulled (restated conversions)
    day(2, registry_all)  # a new account: its initial history reaches far behind the lookback
    vanished = {}

    def drop_campaign_day():
        # The platform stops reporting one campaign-day inside the lookback (as a reload that no longer has it would).
        conn = psycopg2.connect(wh.dsn)
        with conn, conn.cursor() as cur:
            cur.execute(
                "delete from raw.meta__insights where ctid = (select ctid from raw.meta__insights "
                "where report_date = %s order by account_id, payload->>'campaign_id' limit 1) "
                "returning account_id, payload->>'campaign_id', report_date",
                (END_DATE - timedelta(days=2),),
            )
            vanished["row"] = cur.fetchone()
            # and a record the loader would write for the same day: a new reload, so the marts must change
            cur.execute(
                "insert into ops.sync_runs (sync_run_id, platform, workspace_id, account_id, window_start, window_end, status, finished_at) "
                "values ('manual', 'meta', 'x', %s, %s, %s, 'loaded', now())",
                (vanished["row"][0], vanished["row"][2], vanished["row"][2]),
            )
        conn.close()

    day(3, registry_all, before_build=drop_campaign_day)
    return {"steps": steps, "late": late, "vanished": vanished["row"], "wh": wh}


def test_every_incremental_build_equals_a_full_refresh(scenario):
    for step in scenario["steps"]:
        for table in MARTS:
            assert step["marts"][table] == step["full_refresh"][table], (step["run_date"], table)
        for table in ROWS_PER_CAMPAIGN_DAY:
            assert step["marts"][table], table


def test_first_build_is_full_and_daily_builds_cover_the_lookback(scenario):
    first, second = scenario["steps"][0], scenario["steps"][1]
    assert set(first["changed_from"].values()) == {None}  # the tables did not exist: everything
    # Day 1 re-pulls Meta's 28-day lookback: that far back, and not much further.
    run_date = second["run_date"]
    fact_from = second["changed_from"]["fct_ad_performance_daily"]
    assert (run_date - timedelta(days=35)).isoformat() <= fact_from <= (run_date - timedelta(days=28)).isoformat()
    # The KPI mart and the anomaly scores rebuild the same days (reading further back for windows and baselines).
    assert second["changed_from"]["mart_campaign_kpis_daily"] == fact_from
    assert second["changed_from"]["mart_anomalies"] == fact_from
    # So do the alert rules' inputs and verdicts (reading the fact up to a month further back).
    assert second["changed_from"]["int_alert_rule_inputs"] == fact_from
    assert second["changed_from"]["int_alert_rule_evaluations"] == fact_from


def test_anomalies_are_scored_in_every_build(scenario):
    # Equal empty scores would prove nothing: the 40-day history scores points (14 baseline days needed).
    for step in scenario["steps"]:
        scored = [r for r in step["marts"]["marts.mart_anomalies"] if r["is_scored"]]
        assert scored and any(r["entity_type"] == "workspace" for r in scored), step["run_date"]


def test_rules_are_evaluated_on_baselines_in_every_build(scenario):
    # Equal verdicts would prove little if every rule lacked its 28-day baseline: most rows have one.
    for step in scenario["steps"]:
        evaluations = step["marts"]["intermediate.int_alert_rule_evaluations"]
        with_baseline = [r for r in evaluations if r["rule_id"] == "roas_below_baseline" and r["baseline"] is not None]
        assert len(with_baseline) > len(evaluations) / 20, step["run_date"]
        assert {r["entity_type"] for r in evaluations} >= {"campaign"}, step["run_date"]


def rows_of(marts, table, **where):
    return [r for r in marts[table] if all(r[k] == v for k, v in where.items())]


def test_a_load_reaching_behind_the_lookback_is_rebuilt(scenario):
    step = scenario["steps"][2]
    late = scenario["late"]
    window_start = step["run_date"] - timedelta(days=HISTORY - 1)
    assert step["changed_from"]["fct_ad_performance_daily"] <= window_start.isoformat()
    assert step["changed_from"]["mart_anomalies"] <= window_start.isoformat()
    assert step["changed_from"]["int_alert_rule_evaluations"] <= window_start.isoformat()
    for table in ROWS_PER_CAMPAIGN_DAY:
        days = {r["date_day"] for r in rows_of(step["marts"], table, account_id=late.account_id)}
        assert len(days) == HISTORY and min(days) == window_start, table


def test_a_campaign_day_no_longer_reported_leaves_the_marts(scenario):
    account_id, campaign_id, day = scenario["vanished"]
    before, after = scenario["steps"][2]["marts"], scenario["steps"][3]["marts"]
    key = {"account_id": account_id, "campaign_id": campaign_id, "date_day": day}
    for table, rows in ROWS_PER_CAMPAIGN_DAY.items():
        assert len(rows_of(before, table, **key)) == rows, table
        assert rows_of(after, table, **key) == [], table


def test_restated_conversions_reach_the_fact_and_every_window_they_feed(scenario):
    day0, day1 = scenario["steps"][0]["marts"], scenario["steps"][1]["marts"]
    reported = scenario["steps"][0]["run_date"]  # reported at 92% on day 0, restated on day 1
    fact = "marts.fct_ad_performance_daily"
    kpis = "marts.mart_campaign_kpis_daily"
    before = sum(r["conversions"] for r in rows_of(day0, fact, date_day=reported))
    after = sum(r["conversions"] for r in rows_of(day1, fact, date_day=reported))
    assert after > before > 0
    # ... and the 7- and 28-day windows of that day and of the days after it
    for column in ("conversions_7d", "conversions_28d"):
        before = sum(r[column] for r in rows_of(day0, kpis, date_day=reported))
        after = sum(r[column] for r in rows_of(day1, kpis, date_day=reported))
        assert after > before, column
