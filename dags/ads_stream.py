"""
### ads_stream: Amazon Marketing Stream (hourly, over SQS) -> raw -> hourly marts -> intraday alerts

Amazon pushes each subscribed profile's hourly `sp-traffic` and `sp-conversion` records to an
SQS queue (through SNS). Every hour, at five past:

1. `drain`: receive the queue in batches of 10 until it is empty; each batch's bodies land
   untouched in the lake, its records in `raw.amazon_stream__sp_traffic` /
   `raw.amazon_stream__sp_conversion` (once per `idempotency_id`), one commit, and only then
   are its messages deleted. Bodies that never parse go to the dead-letter queue and
   `ops.quarantine` with the reason. (ads_elt.ingestion.marketing_stream)
2. `dbt`: the stream's staging views, `marts.fct_ad_performance_hourly` (records for the same
   hour and key add up: they are deltas), `marts.mart_stream_reconciliation` (the stream
   against the daily report) and `marts.mart_intraday_alerts`.
3. `intraday_alerts`: the day so far against the same hours of recent days (spend spike, CTR
   drop) and the targets (ACOS, ROAS floor), through the daily alerts' log, suppression and
   channels: at most one digest per workspace per run.

Why a schedule and not an `AssetWatcher`: Airflow 3's event-driven scheduling would watch the
queue with the common-messaging `MessageQueueTrigger`, which for SQS is the Amazon provider's
`SqsSensorTrigger`. That trigger receives the messages and **deletes them on reception**
(`delete_message_on_reception=True` by default) in the triggerer, before any DAG run has
committed their data: a run that then fails loses them (they live on only in the asset
event). With deletion turned off, the trigger fires again for the same messages each time
their visibility timeout ends, starting a run per redelivery. Neither keeps the rule this DAG
exists for (delete only after commit), so the DAG drains the queue itself, hourly, the
cadence at which Marketing Stream delivers an hour's data. See docs/stream.md.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from airflow.sdk import dag, task
from airflow.timetables.trigger import CronTriggerTimetable

from ads_elt.callbacks import notify_failure
from ads_elt.warehouse.assets import dbt_assets, manifest_relations, models_tagged, table_asset

DEFAULT_ARGS = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=2),
    "on_failure_callback": notify_failure,
}


@task
def drain(run_id=None) -> dict:
    """Drain the Marketing Stream queue into raw; delete each batch only after its commit."""
    from ads_elt.ingestion.marketing_stream import run_drain

    return run_drain(run_id)


@task
def dbt() -> None:
    """Build the stream's staging views and hourly marts (and their tests)."""
    from ads_elt.ingestion.marketing_stream import build_models

    build_models()


@task
def intraday_alerts() -> dict:
    """The day so far's alerts, through the same alert log, suppression and digests as the daily run."""
    from ads_elt.ingestion.marketing_stream import intraday_alerts as run

    return run()


@dag(
    dag_id="ads_stream",
    schedule=CronTriggerTimetable("5 * * * *", timezone="UTC"),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    on_failure_callback=notify_failure,
    tags=["ads", "elt", "stream", "hourly"],
    doc_md=__doc__,
)
def ads_stream():
    drained = drain.override(outlets=stream_raw_assets())()
    built = dbt.override(outlets=stream_mart_assets())()
    drained >> built >> intraday_alerts()


def stream_raw_assets() -> list:
    from adapters.amazon_ads.stream import RAW_TABLES

    return [table_asset("raw", table) for table in RAW_TABLES.values()]


def stream_mart_assets() -> list:
    """The stream's dbt relations as Assets, from the compiled manifest (none without one)."""
    from ads_elt.warehouse.dbt_cli import DBT_DIR

    manifest_path = DBT_DIR / "target" / "manifest.json"
    if not manifest_path.exists():
        return []
    manifest = manifest_relations(manifest_path)
    return dbt_assets(manifest, models_tagged(manifest, "stream"))


ads_stream()
