"""Scale-out that runs: the daily DAG on Airflow's CeleryExecutor (Redis broker, two workers) on the local Postgres.

One heavy test (`-m celery` selects it): the mapped extracts must spread over
both workers, the run must succeed, and its marts must equal those of the same
world run locally: the session's small world (tests/e2e_worlds.py), whose clean
`airflow dags test` run follows a faulted first sync and is itself checked to equal
a run that never saw a fault. Every process it starts (Postgres, Redis, the Airflow
components and workers) is stopped at the end, pass or fail.
"""

from __future__ import annotations

import shutil

import pytest
from e2e_worlds import SMALL_HISTORY_DAYS

pytestmark = [pytest.mark.celery, pytest.mark.xdist_group("small")]


@pytest.mark.skipif(shutil.which("redis-server") is None, reason="redis-server is not installed (make install adds it)")
def test_celery_workers_share_the_extracts_and_match_a_local_run(small):
    from celery_run import RunResult, compare, harness, read_marts

    # Its own temporary folder (removed afterwards), apart from pytest's rotating basetemp: the Postgres data lives there.
    with harness(history_days=SMALL_HISTORY_DAYS, world=small.world, registry=small.registry) as h:
        celery = h.run("CeleryExecutor", workers=2, timeout=900)
    warehouse = small.clean.warehouse
    local = RunResult(
        "airflow dags test", "success" if small.clean.run.succeeded else "failed", 0.0,
        marts=read_marts(warehouse.pg_server.dsn(warehouse.dbname)),
    )  # fmt: skip
    summary = compare(celery, local, workers=2)
    assert summary["celery_state"] == "success", summary
    assert summary["local_state"] == "success", summary
    assert len(summary["extracts"]) == 4, summary  # two Meta and two Google Ads accounts
    assert summary["extracts_spread_over_all_workers"], summary
    assert summary["workers_used_by_extracts"] == ["worker1", "worker2"], summary
    assert summary["mart_rows"]["marts.fct_ad_performance_daily"] > 0, summary
    assert summary["marts_identical"], summary["first_differences"]
