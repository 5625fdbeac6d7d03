"""Amazon Marketing Stream: drain the SQS queue in batches, land, commit, and only then delete.

The `ads_stream` DAG calls ``drain`` every hour. Each batch (at most 10 messages, SQS's
maximum per receive) goes through the same steps:

1. the message bodies, untouched, to the lake (``amazon_ads/marketing_stream/date=<run day>/<run>/``);
2. each body parsed (``adapters.amazon_ads.stream``): dataset records are inserted into
   ``raw.amazon_stream__sp_traffic`` / ``raw.amazon_stream__sp_conversion`` with
   ``on conflict (idempotency_id) do nothing`` (a redelivered record changes nothing);
   subscription confirmations are skipped; a body that can never be read goes to
   ``ops.quarantine`` (platform ``amazon_ads``, report ``marketing_stream``, the SQS message id
   as ``source``, the reason and the body) once per message;
3. one commit for the batch;
4. unreadable bodies are sent to the dead-letter queue (with their reason as a message
   attribute), then every message of the batch is deleted from the queue.

A worker that dies between 3 and 4 leaves the messages in the queue; they come back after
their visibility timeout and change nothing the second time. A batch that fails before its
commit (the warehouse is down) is not deleted either, so SQS redelivers it and, after the
queue's `maxReceiveCount`, moves it to the dead-letter queue by its redrive policy.

Records are matched to the registry's Amazon Ads profiles by ``advertiser_id`` (a profile's
``accountInfo.id`` in the Amazon Ads profiles API). A record of an advertiser the registry
does not hold is kept with a null workspace and left out by staging.

The queue is described by the Airflow Connection ``amazon_stream`` (``ADS_ELT_STREAM_CONN_ID``):
login/password are the AWS access key, extras ``queue_url``, ``dead_letter_queue_url``,
``region_name`` and, for a local SQS, ``endpoint_url``.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from adapters.amazon_ads.stream import (
    DESCRIPTIVE_COLUMNS,
    METRICS,
    RAW_TABLES,
    Confirmation,
    MalformedMessage,
    StreamRecord,
    parse_body,
)

log = logging.getLogger(__name__)

STREAM_CONN_ID = os.environ.get("ADS_ELT_STREAM_CONN_ID", "amazon_stream")
PLATFORM, REPORT = "amazon_ads", "marketing_stream"
BATCH_SIZE = 10  # SQS returns at most 10 messages per ReceiveMessage
# One run drains at most this many messages; the rest wait for the next run (a bounded task).
MAX_MESSAGES_PER_RUN = int(os.environ.get("ADS_ELT_STREAM_MAX_MESSAGES", "100000"))


class StreamConfigError(ValueError):
    """The `amazon_stream` Connection is missing or lacks a setting."""


@dataclass(frozen=True)
class StreamQueue:
    """Where the stream arrives: the queue, its dead-letter queue, and how to reach SQS."""

    queue_url: str
    dead_letter_queue_url: str
    region_name: str = "us-east-1"
    endpoint_url: str | None = None
    access_key_id: str | None = None
    secret_access_key: str | None = None
    visibility_timeout: int = 300  # seconds a received message stays hidden from other consumers

    def client(self):
        import boto3

        return boto3.client(
            "sqs",
            region_name=self.region_name,
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key_id,
            aws_secret_access_key=self.secret_access_key,
        )

    def __repr__(self) -> str:  # never the secret key
        return f"StreamQueue(queue_url={self.queue_url!r}, dead_letter_queue_url={self.dead_letter_queue_url!r})"


def queue_from_connection(conn_id: str = STREAM_CONN_ID) -> StreamQueue:
    from ads_elt.warehouse.db import connection_or_none

    conn = connection_or_none(conn_id)
    if conn is None:
        raise StreamConfigError(f"Connection {conn_id!r} is not defined: it names the Marketing Stream queue (docs/stream.md)")
    extra = conn.extra_dejson or {}
    missing = [k for k in ("queue_url", "dead_letter_queue_url") if not extra.get(k)]
    if missing:
        raise StreamConfigError(f"Connection {conn_id!r}: extra.{missing[0]} is missing")
    return StreamQueue(
        queue_url=extra["queue_url"],
        dead_letter_queue_url=extra["dead_letter_queue_url"],
        region_name=extra.get("region_name") or "us-east-1",
        endpoint_url=extra.get("endpoint_url") or None,
        access_key_id=conn.login or None,
        secret_access_key=conn.password or None,
        visibility_timeout=int(extra.get("visibility_timeout") or 300),
    )


def advertiser_profiles(registry, profiles_for: Callable[[str], Iterable[Mapping[str, Any]]]) -> dict[str, tuple[str, str]]:
    """``advertiser_id`` -> (workspace_id, profile id) for the registry's Amazon Ads profiles.

    ``profiles_for(connection_id)`` lists the profiles a Connection sees (the Amazon Ads
    profiles API); one call per Connection.
    """
    wanted: dict[str, dict[str, str]] = {}
    for ws in registry.workspaces:
        for account in ws.accounts:
            if account.platform == PLATFORM:
                wanted.setdefault(account.connection, {})[str(account.account_id)] = ws.id
    out: dict[str, tuple[str, str]] = {}
    for connection, accounts in wanted.items():
        for profile in profiles_for(connection):
            profile_id = str(profile.get("profileId"))
            advertiser = (profile.get("accountInfo") or {}).get("id")
            if profile_id in accounts and advertiser:
                out[str(advertiser)] = (accounts[profile_id], profile_id)
    return out


def _row(record: StreamRecord, profiles: Mapping[str, tuple[str, str]], run_id: str) -> tuple:
    workspace_id, account_id = profiles.get(record.texts.get("advertiser_id") or "", (None, None))
    return (
        record.idempotency_id,
        record.message_id,
        workspace_id,
        account_id,
        record.time_window_start,
        record.key["campaign_id"],
        *({**record.key, **record.texts}[k] for k in DESCRIPTIVE_COLUMNS),
        *(record.metrics[m] for m in METRICS[record.dataset]),
        json.dumps(record.record),
        run_id,
    )


def _insert(cur, dataset: str, rows: list[tuple]) -> int:
    from psycopg2.extras import execute_values

    if not rows:
        return 0
    columns = [
        "idempotency_id", "message_id", "workspace_id", "account_id", "time_window_start", "campaign_id",
        *DESCRIPTIVE_COLUMNS, *METRICS[dataset], "record", "stream_run_id",
    ]  # fmt: skip
    inserted = execute_values(
        cur,
        f"insert into raw.{RAW_TABLES[dataset]} ({', '.join(columns)}) values %s "
        "on conflict (idempotency_id) do nothing returning idempotency_id",
        rows,
        fetch=True,
    )
    return len(inserted)


def _quarantine(cur, message_id: str, reason: str, body: str, run_id: str) -> None:
    cur.execute(
        "insert into ops.quarantine (platform, report, sync_run_id, source, reason, payload) "
        "select %s, %s, %s, %s, %s, %s where not exists (select 1 from ops.quarantine "
        "where platform = %s and report = %s and source = %s)",
        (PLATFORM, REPORT, run_id, message_id, reason, body, PLATFORM, REPORT, message_id),
    )


def land(lake_dir, batch_no: int, messages: list[dict]) -> None:
    """The batch's message bodies exactly as received, one JSON line per message (with its SQS id)."""
    if lake_dir is None:
        return
    lake_dir.mkdir(parents=True, exist_ok=True)
    lines = (json.dumps({"MessageId": m["MessageId"], "Body": m["Body"]}) for m in messages)
    (lake_dir / f"batch-{batch_no:05d}.jsonl").write_text("\n".join(lines) + "\n")


def lake_dir_for(run_id: str, day: date):
    from ads_elt.ingestion.lake import lake_root, path_part

    return lake_root() / PLATFORM / REPORT / f"date={day.isoformat()}" / path_part(run_id)


def drain(
    sqs,
    queue: StreamQueue,
    conn,
    profiles: Mapping[str, tuple[str, str]],
    run_id: str,
    *,
    lake_dir=None,
    batch_size: int = BATCH_SIZE,
    max_messages: int = MAX_MESSAGES_PER_RUN,
    wait_seconds: int = 0,
    after_commit: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Drain the queue until it is empty (or ``max_messages``); returns what happened.

    ``after_commit(batch_no)`` runs after a batch's commit and before its messages are
    deleted (the point a worker may die at; tests use it).
    """
    summary = {"batches": 0, "messages": 0, "records": 0, "redelivered": 0, "confirmations": 0, "malformed": 0, "hours": set()}
    while summary["messages"] < max_messages:
        response = sqs.receive_message(
            QueueUrl=queue.queue_url,
            MaxNumberOfMessages=min(batch_size, 10),
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=queue.visibility_timeout,
            MessageSystemAttributeNames=["ApproximateReceiveCount"],
        )
        messages = response.get("Messages") or []
        if not messages:
            break
        summary["batches"] += 1
        land(lake_dir, summary["batches"], messages)
        rows: dict[str, list[tuple]] = {dataset: [] for dataset in RAW_TABLES}
        malformed: list[tuple[dict, str]] = []
        for message in messages:
            try:
                parsed = parse_body(message["Body"])
            except MalformedMessage as exc:
                malformed.append((message, str(exc)))
                continue
            if isinstance(parsed, Confirmation):
                summary["confirmations"] += 1
                log.info("skipped an SNS %s for %s (message %s)", parsed.kind, parsed.topic_arn, parsed.message_id)
                continue
            rows[parsed.dataset].append(_row(parsed, profiles, run_id))
            summary["hours"].add(parsed.time_window_start)
        with conn.cursor() as cur:
            for dataset, dataset_rows in rows.items():
                inserted = _insert(cur, dataset, dataset_rows)
                summary["records"] += inserted
                summary["redelivered"] += len(dataset_rows) - inserted
            for message, reason in malformed:
                _quarantine(cur, message["MessageId"], reason, message["Body"], run_id)
        conn.commit()
        if after_commit is not None:
            after_commit(summary["batches"])
        for message, reason in malformed:
            log.warning(
                "message %s cannot be read (%s): to the dead-letter queue and ops.quarantine", message["MessageId"], reason
            )
            sqs.send_message(
                QueueUrl=queue.dead_letter_queue_url,
                MessageBody=message["Body"],
                MessageAttributes={
                    "reason": {"DataType": "String", "StringValue": reason[:1000]},
                    "source_message_id": {"DataType": "String", "StringValue": message["MessageId"]},
                },
            )
        summary["malformed"] += len(malformed)
        summary["messages"] += len(messages)
        sqs.delete_message_batch(
            QueueUrl=queue.queue_url,
            Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
        )
    hours = sorted(summary.pop("hours"))
    summary["first_hour"] = hours[0].isoformat() if hours else None
    summary["last_hour"] = hours[-1].isoformat() if hours else None
    summary["batch_size"] = batch_size
    log.info(
        "Marketing Stream: %d message(s) in %d batch(es): %d new record(s), %d redelivered, %d confirmation(s), %d malformed",
        summary["messages"], summary["batches"], summary["records"], summary["redelivered"], summary["confirmations"], summary["malformed"],
    )  # fmt: skip
    return summary


# --------------------------------------------------------------------------- the DAG's steps


def run_drain(run_id: str) -> dict[str, Any]:
    """The `drain` task: the queue from its Connection, the profiles from the registry, the warehouse as the loader."""
    from ads_elt.ingestion.pipeline import prepare
    from ads_elt.registry import load_registry
    from ads_elt.registry.connections import client_for
    from ads_elt.warehouse.db import LOADER, connect

    queue = queue_from_connection()  # a missing or incomplete Connection stops here, before any write
    today = datetime.now(UTC).date()
    prepare(today)  # the registry checked; raw/ops tables, roles and the accounts' time zones in place
    profiles = advertiser_profiles(load_registry(), lambda conn_id: client_for(PLATFORM, conn_id).profiles())
    with connect(role=LOADER) as conn:
        return drain(queue.client(), queue, conn, profiles, run_id, lake_dir=lake_dir_for(run_id, today))


INTRADAY_RELATION = "marts.mart_intraday_alerts"


def run_intraday_alerts(conn, settings_by_workspace, **delivery) -> dict[str, Any]:
    """Intraday alerts through the daily alerts' log, suppression and channels: one digest per workspace per run."""
    from ads_elt.alerts import build_alerts, deliver, fetch_alerts, record_and_select_new, signed_dashboard_links
    from ads_elt.alerts.links import reporting_service

    rows = fetch_alerts(conn, None, INTRADAY_RELATION)  # each profile's current day: the mart holds nothing else
    planned = [r for r in rows if r.get("planned_change_id")]
    alerts = build_alerts([r for r in rows if not r.get("planned_change_id")], settings_by_workspace)
    reporting = reporting_service()
    alerts = signed_dashboard_links(alerts, reporting)
    to_send = record_and_select_new(conn, alerts, settings_by_workspace)
    deliveries = deliver(conn, to_send, settings_by_workspace, reporting=reporting, **delivery)
    return {
        "flagged": len(alerts),
        "planned": len(planned),
        "to_send": len(to_send),
        "sent": sum(d["alerts"] for d in deliveries if d["status"] == "sent"),
        "digests": len(deliveries),
        "alerts": [a.message for a in alerts],
        "messages": {d["workspace_id"]: d["text"] for d in deliveries},
    }


# The stream's dbt nodes: its staging views and the marts tagged `stream` (dbt_project.yml).
STREAM_SELECTION = ["stg_amazon_ads__stream_sp_traffic", "stg_amazon_ads__stream_sp_conversion", "tag:stream"]


def build_models() -> None:
    """`dbt build` of the stream's models, in its own target folder (the daily DAG's manifest is left alone)."""
    from ads_elt.warehouse.dbt_cli import DBT_DIR, dbt_env, run

    conn_id = os.environ.get("ADS_ELT_DBT_CONN_ID") or None
    run(["build", "--select", *STREAM_SELECTION, "--target-path", str(DBT_DIR / "target" / "stream")], env=dbt_env(conn_id))


def intraday_alerts() -> dict[str, Any]:
    """The `intraday_alerts` task: the registry's alert settings, the warehouse as administrator (as the daily alerts)."""
    from ads_elt.ingestion.pipeline import alert_settings
    from ads_elt.warehouse.db import connect

    with connect() as conn:
        return run_intraday_alerts(conn, alert_settings())
