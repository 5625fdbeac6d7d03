"""Amazon Marketing Stream: SNS envelopes over a local SQS (moto's server), drained into raw, hourly marts, intraday alerts.

The drain's delivery guarantees are tested on small queues against a real Postgres; the
end-to-end behaviour (dbt's hourly fact, the reconciliation with the daily report, the noon
spike alert) on the stream world: the demo's warehouse with days of stream and one
`airflow dags test ads_stream` (tests/e2e_worlds.py).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import re
import time
import uuid
from datetime import date, timedelta

import psycopg2
import pytest
from e2e_worlds import FIRST_TODAY, REPORT_DATE
from stack import STREAM_SPIKE_CAMPAIGN, STREAM_UNTIL_HOUR

from adapters.amazon_ads.stream import CONVERSION, TRAFFIC, Confirmation, MalformedMessage, parse_body
from ads_elt.ingestion.marketing_stream import StreamQueue, advertiser_profiles, drain
from ads_elt.warehouse import ensure_schema
from sandbox.platforms.amazon_ads import advertiser_id
from sandbox.platforms.amazon_ads_stream import StreamPublisher, ensure_queues, publish
from sandbox.world import World

pytestmark = pytest.mark.xdist_group("demo")

PROFILE = "3100000000000001"
PROFILES = {advertiser_id(PROFILE): ("northwind_us", PROFILE)}
DAY = date(2026, 11, 20)


@pytest.fixture(scope="module")
def world():
    return World.demo(DAY)


def queue_for(local_sqs) -> tuple:
    from stack import sqs_client

    sqs = sqs_client(local_sqs)
    url, dlq = ensure_queues(sqs, f"q-{uuid.uuid4().hex[:8]}")
    return sqs, StreamQueue(
        url, dlq, endpoint_url=local_sqs, access_key_id="local", secret_access_key="local", visibility_timeout=1
    )


def raw_counts(conn) -> dict[str, int]:
    with conn.cursor() as cur:
        out = {}
        for dataset, table in (("traffic", "amazon_stream__sp_traffic"), ("conversion", "amazon_stream__sp_conversion")):
            cur.execute(f"select count(*), count(distinct idempotency_id) from raw.{table}")
            total, distinct = cur.fetchone()
            assert total == distinct
            out[dataset] = total
    conn.commit()
    return out


def record_ids(bodies: list[str]) -> set[str]:
    ids = set()
    for body in bodies:
        try:
            parsed = parse_body(body)
        except MalformedMessage:
            continue
        if not isinstance(parsed, Confirmation):
            ids.add(parsed.idempotency_id)
    return ids


def queue_depth(sqs, url: str) -> int:
    attrs = sqs.get_queue_attributes(
        QueueUrl=url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"]
    )
    return sum(int(v) for v in attrs["Attributes"].values())


# --------------------------------------------------------------------------- the wire format


def test_envelopes_follow_marketing_stream_v1(world):
    bodies = StreamPublisher(world).bodies(DAY, DAY, DAY + timedelta(days=1), faults=False)
    first = json.loads(bodies[0])
    assert first["Type"] == "SubscriptionConfirmation" and first["SubscribeURL"].startswith("https://sns.")
    assert isinstance(parse_body(bodies[0]), Confirmation)
    envelope = json.loads(bodies[-1])
    assert envelope["Type"] == "Notification" and isinstance(envelope["Message"], str)
    record = json.loads(envelope["Message"])
    assert record["dataset_id"] in (TRAFFIC, CONVERSION)
    assert record["advertiser_id"] == advertiser_id(PROFILE)
    assert record["time_window_start"].endswith(":00:00Z")
    parsed = [parse_body(b) for b in bodies[2:]]
    assert {p.dataset for p in parsed} == {TRAFFIC, CONVERSION}
    assert all("attributed_sales_7d" in p.record for p in parsed if p.dataset == CONVERSION)


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ('{"Type": "Notification", "Message": "{\\"dataset_id\\": ', "not JSON"),
        ("[1, 2]", "not an SNS envelope"),
        ('{"Type": "Notification", "Message": "{{"}', "Message is not JSON"),
        ('{"Type": "Notification", "Message": "{\\"dataset_id\\": \\"sp-bogus\\"}"}', "dataset_id 'sp-bogus'"),
        (
            json.dumps(
                {
                    "Type": "Notification",
                    "Message": json.dumps(
                        {
                            "dataset_id": "sp-traffic",
                            "idempotency_id": "x",
                            "campaign_id": "1",
                            "time_window_start": "2026-11-20T08:30:00Z",
                            "impressions": 1,
                            "clicks": 0,
                            "cost": 1,
                        }
                    ),
                }
            ),
            "start of an hour",
        ),
        (
            json.dumps(
                {
                    "Type": "Notification",
                    "Message": json.dumps(
                        {
                            "dataset_id": "sp-traffic",
                            "idempotency_id": "x",
                            "campaign_id": "1",
                            "time_window_start": "2026-11-20T08:00:00Z",
                            "impressions": 1,
                            "clicks": "lots",
                            "cost": 1,
                        }
                    ),
                }
            ),
            "clicks 'lots'",
        ),
    ],
)
def test_unreadable_bodies_say_why(body, reason):
    with pytest.raises(MalformedMessage, match=reason):
        parse_body(body)


def test_records_map_to_registry_profiles_by_advertiser():
    from ads_elt.registry import DEFAULT_REGISTRY, load_registry

    registry = load_registry(DEFAULT_REGISTRY)
    seen = []

    def profiles_for(conn_id):  # what the Amazon Ads profiles API lists for the Connection
        seen.append(conn_id)
        return [
            {"profileId": int(PROFILE), "accountInfo": {"id": "ADV1"}},
            {"profileId": 999, "accountInfo": {"id": "ADV-OTHER"}},
        ]

    assert advertiser_profiles(registry, profiles_for) == {"ADV1": ("northwind_us", PROFILE)}
    assert len(seen) == 1  # one profiles call per Connection


# --------------------------------------------------------------------------- the drain on a real queue and warehouse


@pytest.fixture
def stream_db(pg_conn):
    ensure_schema(pg_conn)
    return pg_conn


def test_every_record_lands_once_through_duplicates_and_redeliveries(world, local_sqs, stream_db, tmp_path):
    sqs, queue = queue_for(local_sqs)
    bodies = StreamPublisher(world).bodies(DAY, DAY, DAY + timedelta(days=2))
    ids = record_ids(bodies)
    assert len(bodies) - len(ids) > 10  # duplicates, confirmations and broken bodies among them
    publish(sqs, queue.queue_url, bodies)
    first = drain(sqs, queue, stream_db, PROFILES, "run-1", lake_dir=tmp_path / "lake")
    counts = raw_counts(stream_db)
    assert counts["traffic"] + counts["conversion"] == len(ids) == first["records"]
    assert first["redelivered"] > 0 and first["confirmations"] == 2
    assert queue_depth(sqs, queue.queue_url) == 0
    # the lake holds every body exactly as received
    landed = [json.loads(line)["Body"] for f in sorted((tmp_path / "lake").iterdir()) for line in f.read_text().splitlines()]
    assert sorted(landed) == sorted(bodies)

    publish(sqs, queue.queue_url, bodies)  # the whole stream delivered again
    again = drain(sqs, queue, stream_db, PROFILES, "run-2")
    assert again["records"] == 0 and again["redelivered"] == first["records"] + first["redelivered"]
    assert raw_counts(stream_db) == counts
    with stream_db.cursor() as cur:
        cur.execute(
            "select count(*) from raw.amazon_stream__sp_traffic where workspace_id = 'northwind_us' and account_id = %s",
            (PROFILE,),
        )
        assert cur.fetchone()[0] == counts["traffic"]


def _drain_and_die(dsn, queue, local_sqs):
    from stack import sqs_client

    conn = psycopg2.connect(dsn)

    def die(batch_no):
        os._exit(9)  # the worker is killed after its first batch's commit, before the delete

    drain(sqs_client(local_sqs), queue, conn, PROFILES, "killed", after_commit=die)


def test_a_worker_killed_between_commit_and_delete_leaves_no_duplicate(world, local_sqs, stream_db, pg_db):
    server, dbname = pg_db
    sqs, queue = queue_for(local_sqs)
    bodies = [b for b in StreamPublisher(world).bodies(DAY, DAY, DAY + timedelta(days=1), faults=False, confirm=False)][:40]
    publish(sqs, queue.queue_url, bodies)
    worker = multiprocessing.get_context("fork").Process(target=_drain_and_die, args=(server.dsn(dbname), queue, local_sqs))
    worker.start()
    worker.join(60)
    assert worker.exitcode == 9
    committed = raw_counts(stream_db)
    assert sum(committed.values()) == 10  # the first batch was committed, none of it deleted
    assert queue_depth(sqs, queue.queue_url) == 40
    time.sleep(1.5)  # the killed worker's messages become visible again
    summary = drain(sqs, queue, stream_db, PROFILES, "next")
    assert summary["records"] == 30 and summary["redelivered"] == 10
    assert sum(raw_counts(stream_db).values()) == len(record_ids(bodies)) == 40
    assert queue_depth(sqs, queue.queue_url) == 0


def test_unreadable_messages_go_to_the_dead_letter_queue_and_quarantine_with_their_reason(world, local_sqs, stream_db):
    sqs, queue = queue_for(local_sqs)
    good = StreamPublisher(world).bodies(DAY, DAY, DAY + timedelta(days=1), faults=False, confirm=False)[:5]
    broken = ["not json at all", '{"Type": "Notification", "Message": "{{"}']
    publish(sqs, queue.queue_url, good + broken)
    summary = drain(sqs, queue, stream_db, PROFILES, "run")
    assert summary["malformed"] == 2 and summary["records"] == 5
    assert queue_depth(sqs, queue.queue_url) == 0
    dead = sqs.receive_message(QueueUrl=queue.dead_letter_queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"])[
        "Messages"
    ]
    assert sorted(m["Body"] for m in dead) == sorted(broken)
    reasons = {m["Body"]: m["MessageAttributes"]["reason"]["StringValue"] for m in dead}
    assert "not JSON" in reasons["not json at all"] and "Message is not JSON" in reasons[broken[1]]
    with stream_db.cursor() as cur:
        cur.execute("select payload, reason from ops.quarantine where platform = 'amazon_ads' and report = 'marketing_stream'")
        quarantined = dict(cur.fetchall())
    assert quarantined.keys() == set(broken) and "not JSON" in quarantined["not json at all"]


def test_a_failed_commit_deletes_nothing(world, local_sqs, stream_db):
    sqs, queue = queue_for(local_sqs)
    bodies = StreamPublisher(world).bodies(DAY, DAY, DAY + timedelta(days=1), faults=False, confirm=False)[:10]
    publish(sqs, queue.queue_url, bodies)
    with stream_db.cursor() as cur:
        cur.execute("alter table raw.amazon_stream__sp_traffic rename to held")
    stream_db.commit()
    with pytest.raises(psycopg2.Error):
        drain(sqs, queue, stream_db, PROFILES, "run")
    stream_db.rollback()
    assert queue_depth(sqs, queue.queue_url) == 10  # still there for the next run (or, repeatedly failing, the redrive policy)


# --------------------------------------------------------------------------- end to end: ads_stream on the demo warehouse


def test_ads_stream_run_succeeds_and_runs_its_marts_tests(stream_world):
    assert stream_world.run.succeeded, stream_world.run.output[-6000:]
    assert "Marketing Stream:" in stream_world.run.output
    from e2e_harness import REPO

    manifest = json.loads((REPO / "dbt_project" / "target" / "manifest.json").read_text())
    streamed = {uid for uid, n in manifest["nodes"].items() if "stream" in n.get("tags", [])}
    tests = {
        n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "test" and set(n["depends_on"]["nodes"]) & streamed
    }
    assert len(tests) > 20  # the stream marts' tests run here, not in ads_daily (test_e2e_platforms)
    started = set(re.findall(r" START test (\S+)", stream_world.run.output))
    assert tests <= started, sorted(tests - started)[:5]


def test_the_stream_reconciles_with_the_daily_report_within_2_percent(stream_world):
    rows = stream_world.warehouse.query(
        "select date_day, campaign_id, spend_diff_pct, clicks_diff_pct, impressions_diff_pct, conversions_diff_pct, "
        "conversion_value_diff_pct, within_tolerance from marts.mart_stream_reconciliation where is_complete_day order by 1, 2"
    )
    days = {r[0] for r in rows}
    assert days == {REPORT_DATE - timedelta(days=n) for n in range(3)}
    assert len(rows) == 6
    for row in rows:
        assert all(v is not None and abs(v) <= 2 for v in row[2:7]), row
        assert row[7] is True
    partial = stream_world.warehouse.query(
        "select bool_or(is_complete_day), max(stream_hours) from marts.mart_stream_reconciliation where date_day = %s",
        (FIRST_TODAY,),
    )
    assert partial == [(False, STREAM_UNTIL_HOUR)]


def test_late_and_invalidating_records_add_up_to_the_latest_numbers(stream_world):
    """Hours with more than one record (late conversions, a click taken back) still match the daily report."""
    updated = stream_world.warehouse.query(
        "select count(*) from (select time_window_start, campaign_id, ad_group_id, keyword_id from raw.amazon_stream__sp_conversion "
        "group by 1, 2, 3, 4 having count(*) > 1) s"
    )[0][0]
    taken_back = stream_world.warehouse.query("select count(*) from raw.amazon_stream__sp_traffic where clicks < 0")[0][0]
    assert updated > 0 and taken_back > 0
    # the raw rows arrived out of hour order
    hours = [
        r[0]
        for r in stream_world.warehouse.query(
            "select time_window_start from raw.amazon_stream__sp_traffic order by received_at, idempotency_id"
        )
    ]
    assert hours != sorted(hours)
    oldest = REPORT_DATE - timedelta(days=2)
    got = stream_world.warehouse.query(
        "select campaign_id, sum(conversions), sum(clicks) from marts.fct_ad_performance_hourly where date_day = %s group by 1 order by 1",
        (oldest,),
    )
    want = stream_world.warehouse.query(
        "select campaign_id, conversions, clicks from marts.fct_ad_performance_daily where platform = 'amazon_ads' and date_day = %s order by 1",
        (oldest,),
    )
    assert [(c, float(v), int(k)) for c, v, k in got] == [(c, float(v), int(k)) for c, v, k in want]


def test_an_injected_noon_spend_spike_alerts_in_the_same_days_run(stream_world):
    alerts = stream_world.warehouse.query(
        "select campaign_id, signal, date_day, through_hour, explanation from marts.mart_intraday_alerts order by signal"
    )
    spiked = [a for a in alerts if a[0] == STREAM_SPIKE_CAMPAIGN]
    assert "intraday_spend_spike" in {a[1] for a in spiked}
    assert all(a[2] == FIRST_TODAY and a[3] == STREAM_UNTIL_HOUR - 1 for a in alerts)
    assert not [a for a in alerts if a[1] == "intraday_spend_spike" and a[0] != STREAM_SPIKE_CAMPAIGN]
    logged = stream_world.warehouse.query(
        "select source, status, workspace_id from ops.alert_log where source = 'intraday' and entity_id = %s and metric = 'intraday_spend_spike'",
        (STREAM_SPIKE_CAMPAIGN,),
    )
    assert logged == [("intraday", "sent", "northwind_us")]
    # one digest per workspace for the run
    assert stream_world.run.output.count("'digests': 1") == 1, stream_world.run.output[-3000:]


def test_unreadable_stream_messages_are_quarantined_by_the_run(stream_world):
    broken = [b for b in stream_world.bodies if not _readable(b)]
    rows = stream_world.warehouse.query("select payload from ops.quarantine where report = 'marketing_stream'")
    assert broken and sorted(r[0] for r in rows) == sorted(broken)


def _readable(body: str) -> bool:
    try:
        parse_body(body)
    except MalformedMessage:
        return False
    return True


def test_an_hourly_build_rebuilds_the_hours_that_received_records_and_equals_a_full_refresh(stream_world, tmp_path):
    """fct_ad_performance_hourly is incremental: records received after its last build (new hours, and later deltas
    of hours it already holds) rebuild their hours whole, every other hour keeps its rows, and the table equals
    what a full refresh gives. mart_stream_reconciliation rebuilds the days from the first day those hours fall on,
    keeps the days before, and equals a full refresh too, also after an upgrade from a table without its watermark."""
    from bench import run_dbt
    from e2e_harness import Warehouse, copy_database
    from stack import dbt_cli_env

    source = stream_world.warehouse
    pg = source.pg_server
    copy = Warehouse(pg, copy_database(pg, source.dbname, f"{source.dbname}_hourly"))
    env = dbt_cli_env(pg.port, pg.password, copy.dbname)
    # Builds minutes apart: no margin on the arrival watermark (see the models' docstrings); no daily lookback, so
    # what the reconciliation rebuilds is set by the stream's arrivals alone (no load finishes in between).
    args = [
        "run",
        "--select",
        "fct_ad_performance_hourly mart_stream_reconciliation",
        "--vars",
        "{incremental_watermark_margin_hours: 0, incremental_lookback_days: 0}",
    ]
    hour_key = "time_window_start, campaign_id, ad_group_id, keyword_id, ad_id, placement"
    later = {}  # raw table -> condition on its records that arrive after the first build
    for table in ("raw.amazon_stream__sp_traffic", "raw.amazon_stream__sp_conversion"):
        last = f"(select max(time_window_start) from {table})"
        later[table] = (
            f"time_window_start > {last} - interval '12 hours' or (time_window_start > {last} - interval '36 hours' "
            f"and idempotency_id not in (select distinct on ({hour_key}) idempotency_id from {table} "
            f"order by {hour_key}, idempotency_id))"
        )
    conn = psycopg2.connect(pg.dsn(copy.dbname))
    try:
        with conn, conn.cursor() as cur:
            for table, condition in later.items():
                cur.execute(f"create table {table}_later as select * from {table} where {condition}")
                cur.execute(f"delete from {table} where idempotency_id in (select idempotency_id from {table}_later)")
        assert run_dbt([*args, "--full-refresh"], env, tmp_path)["returncode"] == 0
        first = dict(copy.query("select hourly_performance_id, xmin::text from marts.fct_ad_performance_hourly"))
        first_days = dict(copy.query("select reconciliation_id, xmin::text from marts.mart_stream_reconciliation"))
        with conn, conn.cursor() as cur:
            for table in later:
                cur.execute(f"update {table}_later set received_at = now()")
                cur.execute(f"insert into {table} select * from {table}_later")
            cur.execute(
                "select distinct time_window_start from raw.amazon_stream__sp_traffic_later "
                "union select distinct time_window_start from raw.amazon_stream__sp_conversion_later"
            )
            arrived = {r[0] for r in cur.fetchall()}
    finally:
        conn.close()
    assert run_dbt(args, env, tmp_path)["returncode"] == 0
    columns = "hourly_performance_id, hour_start_utc, xmin::text, to_jsonb(f)"
    incremental = copy.query(f"select {columns} from marts.fct_ad_performance_hourly f order by 1")
    day_columns = "reconciliation_id, date_day, xmin::text, to_jsonb(r)"
    days = copy.query(f"select {day_columns} from marts.mart_stream_reconciliation r order by 1")
    # A row was written again exactly when its hour received a record; an hour nobody wrote to kept its rows.
    assert all((hour in arrived) == (first.get(key) != xmin) for key, hour, xmin, _ in incremental)
    assert any(hour not in arrived for _, hour, _, _ in incremental)
    assert any(hour in arrived and key in first for key, hour, _, _ in incremental)  # late deltas of built hours
    assert any(key not in first for key, *_ in incremental)  # and new hours
    # A reconciliation row was written again exactly when its day is on or after the first day an arrival reached.
    first_changed_day = min(row["date_day"] for _, hour, _, row in incremental if hour in arrived)
    assert all((str(day) >= first_changed_day) == (first_days.get(key) != xmin) for key, day, xmin, _ in days)
    assert any(str(day) < first_changed_day for _, day, _, _ in days)
    assert any(str(day) >= first_changed_day and key in first_days for key, day, _, _ in days)
    assert run_dbt([*args, "--full-refresh"], env, tmp_path)["returncode"] == 0
    full = copy.query(f"select {columns} from marts.fct_ad_performance_hourly f order by 1")
    assert [(k, h, row) for k, h, _, row in incremental] == [(k, h, row) for k, h, _, row in full]
    full_days = copy.query(f"select {day_columns} from marts.mart_stream_reconciliation r order by 1")
    assert [(key, row) for key, _, _, row in days] == [(key, row) for key, _, _, row in full_days]

    # A reconciliation table built before its watermark column existed: the next hourly run rebuilds every day.
    conn = psycopg2.connect(pg.dsn(copy.dbname))
    try:
        with conn, conn.cursor() as cur:
            cur.execute("alter table marts.mart_stream_reconciliation drop column stream_last_received_at")
    finally:
        conn.close()
    assert run_dbt(args, env, tmp_path)["returncode"] == 0
    upgraded = copy.query(f"select {day_columns} from marts.mart_stream_reconciliation r order by 1")
    assert all(xmin != full_xmin for (_, _, xmin, _), (_, _, full_xmin, _) in zip(upgraded, full_days, strict=True))
    assert [(key, row) for key, _, _, row in upgraded] == [(key, row) for key, _, _, row in full_days]
