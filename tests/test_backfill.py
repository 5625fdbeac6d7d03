"""A backfill of past report dates is idempotent and leaves the marts of one run covering those days.

`airflow backfill create --dag-id ads_daily --from-date ... --to-date ...` runs the
DAG once per past logical date. Each run's loads go through the pipeline's task
bodies (plan, extract, load) with the platforms answering as they do today (the
sandbox's clock is after the week), then dbt builds the marts. A week backfilled
twice leaves exactly the raw rows and marts of backfilling it once, and those equal
one run whose initial history covers the same days. (dbt runs after each of the
two backfills rather than after each of the 14 days: that every incremental build
equals a full refresh is `test_incremental.py`'s.)
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from bench import END_DATE, Warehouse, WorldSize, bench_world, environ, run_dbt, sandbox, sync, write_registry
from test_dbt_project import pin_detector_settings
from test_incremental import SELECT, snapshot

WEEK = [END_DATE - timedelta(days=6 - i) for i in range(7)]  # the seven past report dates
TODAY = END_DATE + timedelta(days=9)  # when the backfill runs: the platforms answer with today's numbers
HISTORY = 30  # initial history of the backfill's first run
SIZE = WorldSize(workspaces=1, accounts=2, campaigns=2, days=60, platforms=("meta", "google_ads"))
RAW = ("raw.meta__insights", "raw.google_ads__campaign_performance")


def pin_detector(wh: Warehouse) -> None:
    """The detector at the seeded worlds' settings and a 30% ACOS target, so this small bounded world has alerts to compare."""
    workspaces = [r[0] for r in wh.query("select distinct workspace_id from ops.workspace_accounts")]
    pin_detector_settings(wh.dsn, workspaces, {"rule.acos_above.threshold": "0.3"})


def raw_rows(wh: Warehouse) -> dict[str, list]:
    return {t: wh.query(f"select account_id, report_date, payload::text from {t} order by 1, 2, 3") for t in RAW}


@pytest.fixture(scope="module")
def backfills(pg_server, tmp_path_factory):
    world = bench_world(SIZE)
    home = tmp_path_factory.mktemp("backfill")
    backfilled = Warehouse.create(pg_server.cluster, home / "week", "backfill")
    single = Warehouse.create(pg_server.cluster, home / "single", "single")
    out = {}
    with sandbox(world, TODAY) as server:
        env = backfilled.env(server.url, server.credentials, write_registry(world, home / "week.yml", HISTORY))
        for n in (1, 2):
            with environ(env):
                for day in WEEK:
                    sync(day, SIZE.platforms, concurrency=2)
            pin_detector(backfilled)
            build = run_dbt(SELECT, env, home / f"build-{n}")
            assert build["returncode"] == 0, build
            out[n] = {"marts": snapshot(backfilled.dsn), "raw": raw_rows(backfilled)}
        # One run whose initial history reaches back to the backfill's first day.
        env = single.env(server.url, server.credentials, write_registry(world, home / "single.yml", HISTORY + len(WEEK) - 1))
        with environ(env):
            sync(WEEK[-1], SIZE.platforms, concurrency=2)
        pin_detector(single)
        build = run_dbt(SELECT, env, home / "build-single")
        assert build["returncode"] == 0, build
        out["single"] = {"marts": snapshot(single.dsn), "raw": raw_rows(single)}
    return out


def test_backfilling_the_same_week_twice_changes_nothing(backfills):
    assert backfills[2]["raw"] == backfills[1]["raw"]
    for table, rows in backfills[1]["raw"].items():
        assert rows and len(rows) == len(set(rows)), table  # no row twice
    assert backfills[2]["marts"] == backfills[1]["marts"]


def test_a_backfilled_week_equals_one_run_over_the_same_days(backfills):
    week, single = backfills[1], backfills["single"]
    assert week["raw"] == single["raw"]
    for table, rows in week["marts"].items():
        assert rows, table
        assert rows == single["marts"][table], table
    days = {r["date_day"] for r in week["marts"]["marts.fct_ad_performance_daily"]}
    assert min(days) == WEEK[0] - timedelta(days=HISTORY - 1) and max(days) == WEEK[-1]
