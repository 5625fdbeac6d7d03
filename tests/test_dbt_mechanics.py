"""How dbt builds here, on an empty warehouse (`dbt build --empty`: every relation, no rows):

- the `unit_tests:` blocks run with `dbt test --select test_type:unit`, no full build needed;
- a view is replaced in place (`create or replace view`), so the views built on it stay;
- no two view replacements (or `drop ... cascade`) run at once, whichever process issues
  them: each waits for one advisory lock (macros/view_replacement.sql). Two dbt threads
  replacing views with a common dependent used to deadlock;
- the DAG's `dbt.views` selection builds five times in a row with the production threads.
"""

from __future__ import annotations

import json
import subprocess
import time

import psycopg2
import pytest
from test_dbt_project import PROJECT, dbt_env, dbt_executable, fetch, run_dbt, run_results

from ads_elt.warehouse import ensure_schema

# The `dbt.views` task's selection (dags/ads_daily.py).
VIEWS_SELECT = ["--select", "resource_type:seed", "path:models/staging", "path:models/intermediate"]
VIEWS_EXCLUDE = ["--exclude", "path:models/marts+"]
LOCK_KEY = "hashtext('ads_elt.view_replacement')"


@pytest.fixture(scope="module")
def empty(pg_server, tmp_path_factory):
    """A warehouse with every relation of the project and no rows; yields (dsn, dbt env, workdir)."""
    dbname = pg_server.create_database(prefix="empty")
    dsn = pg_server.dsn(dbname)
    conn = psycopg2.connect(dsn)
    ensure_schema(conn)
    conn.close()
    env = dbt_env(pg_server.port, dbname, pg_server.password)
    workdir = tmp_path_factory.mktemp("dbt-empty")
    run_dbt(["build", "--empty", "--exclude", "resource_type:unit_test"], env, workdir)
    return dsn, env, workdir


def oid(dsn: str, relation: str) -> int | None:
    return fetch(dsn, f"select to_regclass('{relation}')::oid as oid")[0]["oid"]


def test_unit_tests_run_without_a_full_build(empty, tmp_path):
    _, env, _ = empty
    run_dbt(["test", "--select", "test_type:unit"], env, tmp_path)
    results = [r for r in run_results(tmp_path) if not r["unique_id"].startswith("operation.")]  # the on-run-start hook
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    assert {r["unique_id"] for r in results} == set(manifest["unit_tests"]) and len(results) >= 27
    assert {r["status"] for r in results} == {"pass"}, [r for r in results if r["status"] != "pass"]
    assert len([uid for uid in manifest["unit_tests"] if ".fct_attributed_orders." in uid]) >= 11


def test_a_view_is_replaced_in_place_and_the_views_built_on_it_stay(empty, tmp_path):
    dsn, env, _ = empty
    before = {r: oid(dsn, r) for r in ("staging.stg_meta__insights", "staging.stg_ops__workspace_accounts", "intermediate.int_ad_performance_unioned")}
    assert all(before.values()), before
    run_dbt(["run", "--select", "stg_meta__insights", "stg_ops__workspace_accounts"], env, tmp_path)
    assert {r: oid(dsn, r) for r in before} == before  # the same relations: replaced in place, nothing dropped
    assert "where false" not in fetch(dsn, "select definition from pg_views where viewname = 'stg_meta__insights'")[0]["definition"]


def test_view_replacements_take_turns_across_processes(empty, tmp_path):
    """While another session holds the replacement lock, a dbt run waits for it before touching its view."""
    dsn, env, _ = empty
    holder = psycopg2.connect(dsn)
    holder.autocommit = True
    with holder.cursor() as cur:
        cur.execute(f"select pg_advisory_lock({LOCK_KEY})")
    cmd = [dbt_executable(), "run", "--select", "stg_google_ads__campaign_performance", "--profiles-dir", str(PROJECT),
           "--project-dir", str(PROJECT), "--target-path", str(tmp_path / "target"), "--log-path", str(tmp_path / "logs")]  # fmt: skip
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        waiting = []
        deadline = time.monotonic() + 60
        while not waiting and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.2)
            waiting = fetch(dsn, "select pid from pg_locks where locktype = 'advisory' and not granted")
        assert waiting, "the dbt run never waited for the view replacement lock"
        time.sleep(1)
        assert proc.poll() is None  # still waiting: it does not replace the view meanwhile
    finally:
        with holder.cursor() as cur:
            cur.execute(f"select pg_advisory_unlock({LOCK_KEY})")
        holder.close()
    out, _ = proc.communicate(timeout=120)
    assert proc.returncode == 0, out[-3000:]


def test_a_view_whose_columns_changed_is_created_again_with_what_depends_on_it_dropped(empty, tmp_path):
    """Postgres cannot replace a view in place when a column is renamed or removed: drop it (cascade), create it."""
    dsn, env, _ = empty
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        cur.execute("drop view staging.stg_tiktok__campaign_report cascade")
        cur.execute("create view staging.stg_tiktok__campaign_report as select 1 as legacy_column")
        cur.execute("create view intermediate.legacy_reader as select legacy_column from staging.stg_tiktok__campaign_report")
    conn.close()
    run_dbt(["run", "--select", "stg_tiktok__campaign_report+,config.materialized:view"], env, tmp_path)
    columns = {r["column_name"] for r in fetch(dsn, "select column_name from information_schema.columns where table_name = 'stg_tiktok__campaign_report'")}
    assert "legacy_column" not in columns and {"campaign_id", "spend"} <= columns
    assert oid(dsn, "intermediate.legacy_reader") is None
    assert oid(dsn, "intermediate.int_ad_performance_unioned") is not None  # rebuilt after it, as dbt's order has it


def test_the_views_task_builds_five_times_in_a_row_with_the_production_threads(empty, tmp_path):
    """The threads of profiles.yml (DBT_THREADS, 2 unless set), which the DAG's dbt tasks use too."""
    dsn, env, _ = empty
    for n in range(5):
        # One target folder for the five: dbt parses the project once, as the DAG's cached parse does.
        # Seeds and views, replaced while the other thread replaces its own (their tests only read: they ran above).
        result = run_dbt(
            ["build", *VIEWS_SELECT, *VIEWS_EXCLUDE, "resource_type:test", "resource_type:unit_test"], env, tmp_path, check=False
        )
        assert result.returncode == 0, f"build {n + 1} of 5 failed:\n{result.stdout[-6000:]}"
        assert "Concurrency: 2 threads" in result.stdout
        results = run_results(tmp_path)
        assert {r["status"] for r in results} == {"success"} and len(results) > 40, {r["status"] for r in results}
    assert not fetch(dsn, "select relname from pg_class where relname like '%__dbt_backup' or relname like '%__dbt_tmp'")
