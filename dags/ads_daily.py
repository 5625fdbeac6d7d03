"""
### ads_daily: ad platforms and stores -> raw -> dbt marts -> anomaly alerts

Runs every morning (06:00 UTC) and reports on **the day before** its logical
date: the run of 2026-11-21 brings data through 2026-11-20.

1. `prepare`: validates the workspace registry (a bad field stops the run
   before any write) and makes sure the `raw`/`ops` tables exist.
2. per platform of the catalogue (`adapters.PLATFORMS`: one task group each, in
   the order their specs declare): `plan` works out each account's window
   from `ops.sync_state` (first sync: the initial history; after that: from the
   last good day minus the platform's lookback), then `account` is mapped once
   per account: its `extract` pulls the account into the raw landing zone and
   its `load` replaces that account's window in `raw.*` (one account's failure
   never holds back another's load). Amazon Ads' `extract` requests
   its asynchronous reports and defers to a trigger while they run (no worker
   waits); `file_drop` loads new CSV/JSON files from the workspace inbox once
   each (by content hash), quarantining bad rows with their line number.
   The catalogue's stores sync the same way: each store's orders changed in its
   window (store-local days, lookback 14 days by default) land in
   `raw.<store>__orders`, one row per order.
3. `dbt`: `dbt.views` builds the seeds and the staging and intermediate views (and
   their tests) in one dbt call; then every mart and its tests is its own task
   (astronomer-cosmos); `dbt.cross_model_tests` runs the tests spanning several models last.
   Runs even when a platform failed, so the others' data reaches the marts.
4. `alerts`: `marts.mart_alerts` (anomalies and rules) on the report date ->
   one deduplicated digest per workspace (Slack, Teams, email or the log).
5. `freshness`: `dbt source freshness` per platform (after the loads);
   `data_quality`: the dbt consistency checks and incomplete loads -> alerts.
6. `run_summary`: rows per account, accounts behind, freshness, and fails the
   run (red in the UI, failure callback) if any account did not sync.

Retries: outages and throttling are retried (after the HTTP layer's own
backoff); a bad registry, expired or revoked access (the account is marked
`reauth_required` and alerted once), permission errors, malformed answers and
batches rejected by validation fail at once (retrying cannot fix them) and the
next run catches up. See "Operating it" in docs/operating.md.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta
from pathlib import Path

from airflow.sdk import Param, TaskGroup, dag, task, task_group
from airflow.timetables.trigger import CronTriggerTimetable

from adapters import ad_platforms, store_platforms
from ads_elt.callbacks import notify_failure
from ads_elt.warehouse.assets import dbt_assets, models_tagged, raw_assets

REPO = Path(__file__).resolve().parents[1]
DBT_DIR = Path(os.environ.get("ADS_ELT_DBT_DIR", REPO / "dbt_project"))
MANIFEST = DBT_DIR / "target" / "manifest.json"
# Every platform's task group: plan -> extract -> load, one per spec in the catalogue, in its declared
# order. Amazon Ads' extract defers while its reports run (ads_elt.ingestion.amazon_ads); file drops read the
# workspace inbox (ads_elt.ingestion.file_drop).
PLATFORMS = ad_platforms()
# Stores: the same plan -> extract -> load per store, orders re-pulled by update time.
STORE_PLATFORMS = store_platforms()

# Task retries wait RETRY_DELAY, doubling up to 10x (ADS_ELT_RETRY_DELAY_SECONDS overrides the 120 s).
RETRY_DELAY = timedelta(seconds=float(os.environ.get("ADS_ELT_RETRY_DELAY_SECONDS", "120")))
# At most this many accounts of one platform are extracted at once (the platform's own limits sit in
# adapters/pacing.py PLATFORM_LIMITS, per process).
EXTRACT_CONCURRENCY = int(os.environ.get("ADS_ELT_EXTRACT_CONCURRENCY", "4"))
# dbt threads, as in dbt_project/profiles.yml (one number for the DAG, the demo and the CLI).
DBT_THREADS = int(os.environ.get("DBT_THREADS", "2"))

DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": RETRY_DELAY,
    "retry_exponential_backoff": True,
    "max_retry_delay": RETRY_DELAY * 10,
    "on_failure_callback": notify_failure,
}


def _report_date(logical_date, dag_run):
    """The day a run reports on: the day before the run's logical date (UTC).

    A scheduled run's logical date is its 06:00 UTC tick; a manual run with a logical date
    (`airflow dags trigger --logical-date`, the UI) reports on the day before that date, not
    on the day before it was triggered (its data interval ends when it was triggered); a
    manual run without one (Airflow 3 allows it) on the day before it was triggered.
    """
    anchor = logical_date or getattr(dag_run, "run_after", None)
    if anchor is None:
        raise ValueError("the run has neither a logical date nor a run_after time: no report date")
    return (anchor - timedelta(days=1)).date()


@task
def prepare(logical_date=None, dag_run=None) -> dict:
    from ads_elt.ingestion.pipeline import prepare as run

    return run(_report_date(logical_date, dag_run))


@task
def plan(platform: str, logical_date=None, dag_run=None, run_id=None, params=None) -> list[dict]:
    from ads_elt.ingestion.pipeline import plan as run

    return [s.to_xcom() for s in run(platform, _report_date(logical_date, dag_run), run_id, only=sync_limits(params))]


# A manual run may sync one workspace, one platform or one account (the reporting API's sync
# endpoints trigger it so); left empty, every account of the registry is synced.
PARAMS = {
    "workspace_id": Param(None, type=["null", "string"], description="sync only this workspace's accounts and stores"),
    "platform": Param(None, type=["null", "string"], description="sync only this platform (with workspace_id)"),
    "account_id": Param(None, type=["null", "string"], description="sync only this account (with workspace_id and platform)"),
}


def sync_limits(params) -> dict[str, str]:
    """The run's non-empty sync limits (workspace_id, platform, account_id) from its params."""
    return {k: str(params[k]) for k in PARAMS if params and params.get(k)}


@task(map_index_template="{{ account_label }}", retries=3, max_active_tis_per_dagrun=EXTRACT_CONCURRENCY)
def extract(scope: dict) -> dict:
    from airflow.sdk import get_current_context

    from ads_elt.ingestion.pipeline import extract as run
    from ads_elt.ingestion.scope import SyncScope

    typed = SyncScope.of(scope)
    get_current_context()["account_label"] = typed.label
    return run(typed)


@task(task_id="extract", map_index_template="{{ account_label }}")
def extract_files(scope: dict) -> dict:
    from airflow.sdk import get_current_context

    from ads_elt.ingestion.file_drop import extract as run
    from ads_elt.ingestion.scope import SyncScope

    typed = SyncScope.of(scope)
    get_current_context()["account_label"] = typed.label
    return run(typed)


@task(task_id="load", map_index_template="{{ account_label }}")
def load_files(batch: dict) -> dict:
    from airflow.sdk import get_current_context

    from ads_elt.ingestion.file_drop import load as run

    get_current_context()["account_label"] = batch["account_id"]
    return run(batch)


def sync_accounts(platform: str, scopes):
    """extract -> load per account, mapped over the platform's accounts; returns the mapped group.

    Every platform maps the pair, never extract and load separately: one account's failed
    extract leaves only that account's load undone, the others load as soon as their own
    extract is done.
    """
    # The load's outlets: the platform's raw tables as Assets (ads_elt.warehouse.assets).
    raw = raw_assets(platform)
    if platform == "file_drop":
        return sync_file_drop_account.partial(raw=raw).expand(scope=scopes)
    if platform == "amazon_ads":
        return sync_amazon_ads_account.partial(raw=raw).expand(scope=scopes)
    return sync_account.partial(raw=raw).expand(scope=scopes)


@task_group(group_id="account")
def sync_account(scope: dict, raw: list):
    """One account: extract, then load."""
    return load.override(outlets=raw)(extract(scope))


@task_group(group_id="account")
def sync_file_drop_account(scope: dict, raw: list):
    """One file-drop inbox: pick up new files, then load them."""
    return load_files.override(outlets=raw)(extract_files(scope))


@task_group(group_id="account")
def sync_amazon_ads_account(scope: dict, raw: list):
    """One Amazon Ads profile: request the reports and defer while Amazon builds them, then load."""
    from ads_elt.ingestion.amazon_ads import AmazonAdsReportOperator

    report = AmazonAdsReportOperator(task_id="extract", scope=scope, retries=3, map_index_template="{{ account_label }}")
    return load.override(outlets=raw)(report.output)


@task(map_index_template="{{ account_label }}")
def load(batch: dict) -> dict:
    from airflow.sdk import get_current_context

    from ads_elt.ingestion.pipeline import load as run

    get_current_context()["account_label"] = batch["account_id"]
    return run(batch)


@task(trigger_rule="all_done")
def transform_gate(ti=None) -> None:
    """Let dbt run once every platform has finished, whether or not each succeeded."""
    from airflow.sdk.exceptions import AirflowFailException

    if ti.xcom_pull(task_ids="prepare") is None:
        raise AirflowFailException("prepare did not succeed (see its log): not transforming")


@task(trigger_rule="all_done")
def freshness(ti=None) -> dict:
    """`dbt source freshness` per platform: warnings in the log, an error turns the task red."""
    from airflow.sdk.exceptions import AirflowFailException

    from ads_elt.ingestion.pipeline import freshness as run

    if ti.xcom_pull(task_ids="prepare") is None:
        raise AirflowFailException("prepare did not succeed: freshness not checked")
    return run()


@task(trigger_rule="all_done")
def data_quality(logical_date=None, dag_run=None, run_id=None, ti=None) -> dict:
    """Consistency checks (dbt, thresholds in the dq_thresholds seed) and incomplete loads -> alerts."""
    from airflow.sdk.exceptions import AirflowFailException

    from ads_elt.ingestion.pipeline import data_quality as run

    if ti.xcom_pull(task_ids="prepare") is None:
        raise AirflowFailException("prepare did not succeed: nothing to check")
    return run(run_id, _report_date(logical_date, dag_run))


@task
def alerts(logical_date=None, dag_run=None) -> dict:
    from ads_elt.ingestion.pipeline import alerts as run

    return run(_report_date(logical_date, dag_run))


@task(trigger_rule="all_done")
def run_summary(logical_date=None, dag_run=None, run_id=None, ti=None) -> dict:
    """The run's last word: what each account did, and a failure if anything did not finish."""
    from airflow.sdk.exceptions import AirflowFailException

    from ads_elt.ingestion.pipeline import run_summary as run

    if ti.xcom_pull(task_ids="prepare") is None:
        raise AirflowFailException("prepare did not succeed: nothing was synced (see its log)")
    summary = run(run_id, _report_date(logical_date, dag_run), ti.xcom_pull(task_ids="freshness"))  # fails if an account failed
    if ti.xcom_pull(task_ids="alerts") is None:
        raise AirflowFailException("the transform or alert step did not complete (see the tasks in red)")
    return summary


# The layers built in one `dbt build` (the `dbt.views` task): seeds and the staging and
# intermediate views upstream of the marts, with every test whose parents are all among them.
# The marts, and the models built on them (the alert rules' inputs and verdicts), are a task each.
DBT_MARTS = "path:models/marts+"
# Rollups read the campaign fact and nothing in the DAG reads them (the account and platform KPI marts,
# the fact's snapshot and mart_restatements, MetricFlow's time spine): one `dbt build` for all of them,
# one dbt start-up instead of one per model.
DBT_ROLLUPS = "tag:rollup"
DBT_VIEW_LAYERS = "resource_type:seed path:models/staging path:models/intermediate"
# Amazon Marketing Stream's hourly marts are the ads_stream DAG's (dags/ads_stream.py), not this one's.
DBT_STREAM = "tag:stream"


def cross_model_tests(manifest: dict) -> list[str]:
    """The data tests over several models or seeds of which one is a mart (or built on one): `dbt.cross_model_tests`.

    A test over one model runs in that model's task; one over views and seeds only in `dbt.views`.
    """
    nodes = manifest["nodes"]
    built = {
        uid for uid, n in nodes.items()
        if n["resource_type"] in ("model", "seed", "snapshot") and "stream" not in n.get("tags", [])
    }  # fmt: skip
    downstream_of_marts, todo = set(), [uid for uid in built if nodes[uid]["resource_type"] == "model" and nodes[uid]["path"].startswith("marts/")]
    while todo:
        uid = todo.pop()
        if uid not in downstream_of_marts:
            downstream_of_marts.add(uid)
            todo += [c for c in manifest["child_map"].get(uid, []) if c in built]
    tests = []
    for node in nodes.values():
        parents = {p for p in node.get("depends_on", {}).get("nodes", []) if p in built}
        streamed = {p for p in node.get("depends_on", {}).get("nodes", []) if "stream" in nodes.get(p, {}).get("tags", [])}
        if node["resource_type"] == "test" and len(parents) > 1 and parents & downstream_of_marts and not streamed:
            tests.append(node["name"])
    return sorted(tests)


def dbt_tasks():
    """dbt from the compiled manifest (no dbt call at parse time): one task for the views, one per mart, one for the cross-model tests.

    `dbt.views` builds the seeds and the staging and intermediate views and runs their tests in
    one dbt invocation; then each mart is its own task (`dbt build` on the model: its unit tests,
    the model, the tests on it alone), and once every mart is built `dbt.cross_model_tests` runs
    the tests spanning a mart and other models (relationships, reconciliations, the consistency
    checks) in one invocation. Each dbt invocation costs a start-up (1.5 to 3 s): for some fifty
    views that change only with the code and for a dozen cross-model tests, one task each is a
    minute faster a run, and a failing test still names itself in its task's log.
    """
    if not MANIFEST.exists():
        # Without a manifest (`make manifest` creates it) fall back to one `dbt build` task.
        @task(task_id="dbt_build")
        def dbt_build() -> None:
            from ads_elt.warehouse.dbt_cli import build

            build()

        return dbt_build()

    import json

    from cosmos import DbtTaskGroup, ExecutionConfig, LoadMode, ProfileConfig, ProjectConfig, RenderConfig
    from cosmos.constants import TestBehavior
    from cosmos.operators.local import DbtBuildLocalOperator, DbtTestLocalOperator
    from cosmos.profiles import PostgresUserPasswordProfileMapping

    profile_config = ProfileConfig(
        profile_name="ads_elt",
        target_name="airflow",
        # dbt runs as the transformer role when its Connection is named here (scripts/stack.py does).
        profile_mapping=PostgresUserPasswordProfileMapping(
            conn_id=os.environ.get("ADS_ELT_DBT_CONN_ID") or os.environ.get("ADS_ELT_WAREHOUSE_CONN_ID", "warehouse"),
            profile_args={"schema": "analytics", "threads": DBT_THREADS},
        ),
    )
    dbt_bin = str(Path(os.environ.get("ADS_ELT_DBT_BIN", "dbt")))
    retries = {"retries": 1, "retry_delay": min(RETRY_DELAY, timedelta(seconds=30))}
    manifest = json.loads(MANIFEST.read_text())
    # Every task runs only the tests all of whose parents it builds (`--indirect-selection cautious`).
    # No JSON artifacts: each task runs dbt in a throwaway copy of the project, so the manifest.json
    # (written twice an invocation, about half a second each) and run_results.json were never read;
    # the partial-parse cache is kept all the same. dbt's log in the task's log says what ran.
    no_artifacts = {"dbt_cmd_global_flags": ["--no-write-json"]}
    own = {"install_deps": False, "emit_datasets": False, "indirect_selection": "cautious", **no_artifacts}
    with DbtTaskGroup(
        group_id="dbt",
        project_config=ProjectConfig(dbt_project_path=DBT_DIR, manifest_path=MANIFEST, install_dbt_deps=False),
        profile_config=profile_config,
        execution_config=ExecutionConfig(dbt_executable_path=dbt_bin),
        # One task per mart running `dbt build` on it: its unit tests, the model, the tests on it alone.
        render_config=RenderConfig(
            load_method=LoadMode.DBT_MANIFEST,
            select=[DBT_MARTS],
            exclude=[DBT_ROLLUPS, DBT_STREAM],
            test_behavior=TestBehavior.BUILD,
            should_detach_multiple_parents_tests=False,
            emit_datasets=False,
        ),
        operator_args={"indirect_selection": "cautious", **no_artifacts},  # no dbt deps: ProjectConfig(install_dbt_deps=False)
        default_args=retries,
    ) as group:
        marts = list(group.children.values())
        # The group's partial-parse cache, so no task parses what another already did.
        shared = {"project_dir": str(DBT_DIR), "profile_config": profile_config, "dbt_executable_path": dbt_bin, "cache_dir": marts[0].cache_dir}
        views = DbtBuildLocalOperator(
            task_id="views",
            select=DBT_VIEW_LAYERS,
            exclude=DBT_MARTS,
            doc_md="Seeds, staging and intermediate views and their tests: one `dbt build`.",
            **shared,
            **own,
            **retries,
        )
        checks = DbtTestLocalOperator(
            task_id="cross_model_tests",
            select=" ".join(cross_model_tests(manifest)),
            doc_md="The tests spanning a mart and other models, once every mart is built: one `dbt test`.",
            **shared,
            **own,
            **retries,
        )
        rollups = DbtBuildLocalOperator(
            task_id="rollups",
            select=DBT_ROLLUPS,
            doc_md="The marts nothing downstream reads (account and platform KPIs, restatements and their snapshot, "
            "the time spine), after the campaign fact: one `dbt build`.",
            **shared,
            **own,
            **retries,
        )
        # Outlets: each mart task its relation, the rollups theirs (ads_elt.warehouse.assets).
        for t in marts:
            t.outlets = dbt_assets(manifest, [t.extra_context["dbt_node_config"]["unique_id"]])
        rollups.outlets = dbt_assets(manifest, models_tagged(manifest, DBT_ROLLUPS.removeprefix("tag:")))
        views >> [t for t in marts if not t.upstream_list]
        [t for t in marts if t.task_id.endswith("fct_ad_performance_daily_model_build")] >> rollups
        [t for t in marts if not t.downstream_list] >> checks
        rollups >> checks
    return group


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
    params=PARAMS,
)
def ads_daily():
    prepared = prepare()
    gate = transform_gate()
    for platform in PLATFORMS + STORE_PLATFORMS:
        with TaskGroup(group_id=platform, tooltip=f"sync every {platform} account or store"):
            scopes = plan(platform)
            loaded = sync_accounts(platform, scopes)
        prepared >> scopes
        loaded >> gate
    dbt = dbt_tasks()
    sent = alerts()
    gate >> dbt >> sent
    fresh = freshness()
    quality = data_quality()
    gate >> fresh
    dbt >> quality
    summary = run_summary()
    [sent, fresh, quality] >> summary


ads_daily()
