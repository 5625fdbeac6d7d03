"""
### ads_daily: ad platforms -> raw -> dbt marts -> anomaly alerts

Runs every morning (06:00 UTC) and reports on **the day before** its logical
date: the run of 2026-11-21 brings data through 2026-11-20.

1. `prepare`: validates the workspace registry (a bad field stops the run
   before any write) and makes sure the `raw`/`ops` tables exist.
2. per platform (`meta`, `google_ads`): `plan` works out each account's window
   from `ops.sync_state` (first sync: the initial history; after that: from the
   last good day minus the platform's lookback), `extract` pulls one account
   into the raw landing zone (mapped: one task instance per account), `load`
   replaces that account's window in `raw.*`.
3. `dbt`: every dbt model and its tests as its own task (astronomer-cosmos).
   Runs even when a platform failed, so the others' data reaches the marts.
4. `alerts`: anomalies on the report date -> deduplicated Slack messages.
5. `run_summary`: rows per account, accounts behind, and fails the run
   (red in the UI, failure callback) if any account did not sync.

Retries: outages and throttling are retried (after the HTTP layer's own
backoff); a bad registry, revoked access, permission errors and malformed API
answers fail at once (retrying cannot fix them) and the next run catches up.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import TaskGroup, dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from ads_elt.callbacks import notify_failure

REPO = Path(__file__).resolve().parents[1]
DBT_DIR = Path(os.environ.get("ADS_ELT_DBT_DIR", REPO / "dbt_project"))
MANIFEST = DBT_DIR / "target" / "manifest.json"
PLATFORMS = ("meta", "google_ads")

DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "retry_exponential_backoff": True,
    "max_retry_delay": timedelta(minutes=20),
    "on_failure_callback": notify_failure,
}


def _report_date(data_interval_end, logical_date):
    """The day a run reports on: the day before the run's logical date (UTC)."""
    anchor = data_interval_end or logical_date
    return (anchor - timedelta(days=1)).date()


@task
def prepare(data_interval_end=None, logical_date=None) -> dict:
    from ads_elt.pipeline import prepare as run

    return run(_report_date(data_interval_end, logical_date))


@task
def plan(platform: str, data_interval_end=None, logical_date=None, run_id=None) -> list[dict]:
    from ads_elt.pipeline import plan as run

    return run(platform, _report_date(data_interval_end, logical_date), run_id)


@task(map_index_template="{{ account_label }}", retries=3)
def extract(scope: dict) -> dict:
    from airflow.sdk import get_current_context

    from ads_elt.pipeline import extract as run

    get_current_context()["account_label"] = f"{scope['workspace_id']} / {scope['account_id']}"
    return run(scope)


@task(map_index_template="{{ account_label }}")
def load(batch: dict) -> dict:
    from airflow.sdk import get_current_context

    from ads_elt.pipeline import load as run

    get_current_context()["account_label"] = batch["account_id"]
    return run(batch)


@task(trigger_rule="all_done")
def transform_gate(ti=None) -> None:
    """Let dbt run once every platform has finished, whether or not each succeeded."""
    from airflow.exceptions import AirflowFailException

    if ti.xcom_pull(task_ids="prepare") is None:
        raise AirflowFailException("prepare did not succeed (see its log): not transforming")


@task
def alerts(data_interval_end=None, logical_date=None) -> dict:
    from ads_elt.pipeline import alerts as run

    return run(_report_date(data_interval_end, logical_date))


@task(trigger_rule="all_done")
def run_summary(data_interval_end=None, logical_date=None, run_id=None, ti=None) -> dict:
    """The run's last word: what each account did, and a failure if anything did not finish."""
    from airflow.exceptions import AirflowFailException

    from ads_elt.pipeline import run_summary as run

    if ti.xcom_pull(task_ids="prepare") is None:
        raise AirflowFailException("prepare did not succeed: nothing was synced (see its log)")
    summary = run(run_id, _report_date(data_interval_end, logical_date))  # fails if an account failed
    if ti.xcom_pull(task_ids="alerts") is None:
        raise AirflowFailException("the transform or alert step did not complete (see the tasks in red)")
    return summary


def dbt_tasks():
    """Each dbt node as its own task, from the compiled manifest (no dbt call at parse time)."""
    if not MANIFEST.exists():
        # Without a manifest (`make manifest` creates it) fall back to one `dbt build` task.
        @task(task_id="dbt_build")
        def dbt_build() -> None:
            from ads_elt.dbt_cli import build

            build()

        return dbt_build()

    from cosmos import DbtTaskGroup, ExecutionConfig, LoadMode, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import TestBehavior
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    return DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(dbt_project_path=DBT_DIR, manifest_path=MANIFEST, install_dbt_deps=False),
        profile_config=ProfileConfig(
            profile_name="ads_elt",
            target_name="airflow",
            profile_mapping=PostgresUserPasswordProfileMapping(
                conn_id=os.environ.get("ADS_ELT_WAREHOUSE_CONN_ID", "warehouse"), profile_args={"schema": "analytics"}
            ),
        ),
        execution_config=ExecutionConfig(dbt_executable_path=str(Path(os.environ.get("ADS_ELT_DBT_BIN", "dbt")))),
        # Tests over several models (relationships, reconciliations) run once all their parents are built.
        # One task per model running `dbt build` on it (the model, then its tests).
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            test_behavior=TestBehavior.BUILD,
            should_detach_multiple_parents_tests=True,
        ),
        operator_args={"install_deps": False},
        default_args={"retries": 1, "retry_delay": timedelta(seconds=30)},
    )


@dag(
    dag_id="ads_daily",
    schedule=CronTriggerTimetable("0 6 * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    on_failure_callback=notify_failure,
    tags=["ads", "elt", "daily"],
    doc_md=__doc__,
)
def ads_daily():
    prepared = prepare()
    gate = transform_gate()
    for platform in PLATFORMS:
        with TaskGroup(group_id=platform, tooltip=f"sync every {platform} account"):
            scopes = plan(platform)
            loaded = load.expand(batch=extract.expand(scope=scopes))
        prepared >> scopes
        loaded >> gate
    dbt = dbt_tasks()
    sent = alerts()
    gate >> dbt >> sent
    sent >> run_summary()


ads_daily()
