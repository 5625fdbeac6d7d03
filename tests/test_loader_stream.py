"""The loader's two ways to the same rows: streamed (COPY while parsing and validating) and validated first.

A clean batch is streamed; a batch with any flagged record is rolled back and loaded
validated-first. Either way the raw table, the quarantine and the sync state end up the
same, a rerun replaces the window exactly once, and a failure half way leaves the old rows.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest

from adapters.errors import BadResponseError
from ads_elt.ingestion import loader, loader_stream, raw_batch
from ads_elt.ingestion.loader import load_batch, load_batches
from ads_elt.warehouse import ensure_schema

END = date(2026, 11, 20)
DAYS = 7
CAMPAIGNS = 60


def meta_batch(spend: str, run_id: str, days: int = DAYS, bad: dict | None = None) -> tuple[dict, list]:
    records = [
        {
            "campaign_id": str(120210000000000000 + c),
            "campaign_name": f"Prospecting \\ {c} ✓",  # a backslash and non-ASCII text survive the COPY
            "spend": spend,
            "impressions": "1000",
            "clicks": "10",
            "account_currency": "USD",
            "date_start": (END - timedelta(days=d)).isoformat(),
            "date_stop": (END - timedelta(days=d)).isoformat(),
        }
        for d in range(days)
        for c in range(CAMPAIGNS)
    ]
    if bad:
        records[5] = {**records[5], **bad}
    manifest = {
        "platform": "meta",
        "report": "insights",
        "workspace_id": "northwind_us",
        "account_id": "1000000001",
        "window_start": (END - timedelta(days=DAYS - 1)).isoformat(),
        "window_end": END.isoformat(),
        "sync_run_id": run_id,
        "extracted_at": "2026-11-21T06:00:00+00:00",
    }
    return manifest, [("page-00001.json", json.dumps({"data": records}).encode())]


def google_batch(rows_per_batch: int, bad_row_in_second_batch: bool) -> tuple[dict, list]:
    def row(c: int, d: int) -> dict:
        return {
            "campaign": {"id": str(c), "name": f"c{c}"},
            "segments": {"date": (END - timedelta(days=d)).isoformat()},
            "metrics": {"costMicros": "1000000", "impressions": "10", "clicks": "1"},
        }

    rows = [row(c, d) for d in range(DAYS) for c in range(rows_per_batch * 2 // DAYS + 1)]
    first, second = rows[:rows_per_batch], rows[rows_per_batch:]
    if bad_row_in_second_batch:
        second[-1] = {"campaign": {"id": "x"}}  # no segments.date: the body is malformed
    manifest = {
        "platform": "google_ads",
        "report": "campaign_performance",
        "workspace_id": "northwind_us",
        "account_id": "5000000001",
        "window_start": (END - timedelta(days=DAYS - 1)).isoformat(),
        "window_end": END.isoformat(),
        "sync_run_id": "g1",
        "extracted_at": "2026-11-21T06:00:00+00:00",
    }
    body = json.dumps([{"results": first}, {"results": second}]).encode()
    return manifest, [("page-00001.json", body)]


@pytest.fixture
def conn(pg_conn):
    ensure_schema(pg_conn)
    return pg_conn


@pytest.fixture
def paths(monkeypatch):
    """Which way each load went: 'streamed', 'rolled back' or 'validated first'."""
    taken: list[str] = []
    streamed, careful = loader_stream.load_streamed, loader._load_validated_first

    def spy_streamed(conn, batches):
        written = streamed(conn, batches)
        taken.append("streamed" if written is not None else "rolled back")
        return written

    def spy_careful(conn, batches):
        taken.append("validated first")
        return careful(conn, batches)

    monkeypatch.setattr(loader_stream, "load_streamed", spy_streamed)
    monkeypatch.setattr(loader, "_load_validated_first", spy_careful)
    return taken


def raw_rows(conn, table: str = "meta__insights") -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(f"select report_date, payload::text, sync_run_id from raw.{table} order by 1, 2")
        rows = cur.fetchall()
    conn.commit()
    return rows


def state(conn) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute("select status, last_success_window_end, last_error from ops.sync_state")
        rows = cur.fetchall()
        cur.execute("select reason, payload::jsonb->>'campaign_id' from ops.quarantine order by 1")
        rows += cur.fetchall()
    conn.commit()
    return rows


def test_a_clean_batch_is_streamed_and_lands_as_the_validated_first_load_does(conn, paths, monkeypatch):
    manifest, pages = meta_batch("1.50", "run_1")
    result = load_batch(conn, manifest, pages)
    assert paths == ["streamed"]
    assert result["rows_loaded"] == DAYS * CAMPAIGNS and result["rows_replaced"] == 0
    streamed_rows, streamed_state = raw_rows(conn), state(conn)
    assert len(streamed_rows) == DAYS * CAMPAIGNS
    assert json.loads(streamed_rows[0][1])["campaign_name"].startswith("Prospecting \\ ")
    assert json.loads(streamed_rows[0][1])["campaign_name"].endswith("✓")

    # The same batch again, forced the validated-first way: it replaces every row, and the same rows result.
    monkeypatch.setattr(raw_batch, "copy_line_maker", lambda constants: None)  # as when a constant needs escaping
    result = load_batch(conn, manifest, pages)
    assert paths[-1] == "validated first" and result["rows_replaced"] == DAYS * CAMPAIGNS
    assert raw_rows(conn) == streamed_rows and state(conn) == streamed_state


def test_a_rerun_replaces_the_days_it_delivers_exactly_once(conn, paths):
    load_batch(conn, *meta_batch("1.00", "run_1"))
    result = load_batch(conn, *meta_batch("2.00", "run_2", days=3))  # the API answered 3 of the 7 days
    # The streamed attempt deleted the whole window up front: days with rows the API left
    # out must stay, so it is rolled back and the batch loaded validated-first.
    assert paths == ["streamed", "rolled back", "validated first"]
    assert result["rows_replaced"] == 3 * CAMPAIGNS
    rows = raw_rows(conn)
    assert len(rows) == DAYS * CAMPAIGNS
    by_day = {}
    for day, payload, run in rows:
        by_day.setdefault(day, set()).add((json.loads(payload)["spend"], run))
    assert all(by_day[END - timedelta(days=d)] == {("2.00", "run_2")} for d in range(3))
    assert all(by_day[END - timedelta(days=d)] == {("1.00", "run_1")} for d in range(3, DAYS))

    result = load_batch(conn, *meta_batch("3.00", "run_3"))  # every day delivered: streamed
    assert paths[-1] == "streamed" and result["rows_replaced"] == DAYS * CAMPAIGNS
    assert {(json.loads(p)["spend"], run) for _, p, run in raw_rows(conn)} == {("3.00", "run_3")}
    assert len(raw_rows(conn)) == DAYS * CAMPAIGNS


def test_a_new_account_s_first_days_inside_the_window_stream(conn, paths):
    """Window days before an account's first data have no rows: leaving them out needs no care."""
    result = load_batch(conn, *meta_batch("1.00", "run_1", days=3))
    assert paths == ["streamed"] and result["missing_days"] == []
    assert len(raw_rows(conn)) == 3 * CAMPAIGNS


def test_a_flagged_record_rolls_the_streamed_attempt_back_and_quarantines_it(conn, paths):
    load_batch(conn, *meta_batch("1.00", "run_1"))
    result = load_batch(conn, *meta_batch("2.00", "run_2", bad={"spend": "-3"}))
    assert paths == ["streamed", "rolled back", "validated first"]
    assert result["rows_loaded"] == DAYS * CAMPAIGNS - 1 and result["rows_quarantined"] == 1
    rows = raw_rows(conn)
    # No row of the rolled-back attempt is left: every day holds its campaigns once, from run_2.
    assert len(rows) == DAYS * CAMPAIGNS - 1
    assert {run for _, _, run in rows} == {"run_2"}
    assert "-3" not in {json.loads(p)["spend"] for _, p, _ in rows}
    with conn.cursor() as cur:
        cur.execute("select check_name, reason from ops.quarantine")
        assert cur.fetchall() == [("negative_value", "spend is negative (-3)")]


def test_a_malformed_row_after_rows_were_sent_leaves_the_old_rows(conn, paths):
    manifest, pages = google_batch(rows_per_batch=5000, bad_row_in_second_batch=False)
    load_batch(conn, manifest, pages)
    before = raw_rows(conn, "google_ads__campaign_performance"), state(conn)
    manifest, pages = google_batch(rows_per_batch=5000, bad_row_in_second_batch=True)
    manifest["sync_run_id"] = "g2"
    with pytest.raises(BadResponseError, match=r"batch 1 results\[\d+\] has no segments.date"):
        load_batch(conn, manifest, pages)  # 5,000 rows of the first batch were already COPYed
    assert (raw_rows(conn, "google_ads__campaign_performance"), state(conn)) == before
    assert paths == ["streamed"]  # the failed attempt raised from inside the streamed path


def test_an_error_in_the_copy_thread_is_raised_and_nothing_is_written(conn):
    import psycopg2

    load_batch(conn, *meta_batch("1.00", "run_1"))
    before = raw_rows(conn), state(conn)
    manifest, pages = meta_batch("2.00", "run_2", bad={"campaign_name": "nul \u0000 byte"})  # jsonb refuses \u0000
    with pytest.raises(psycopg2.Error, match="unsupported Unicode escape sequence"):
        load_batch(conn, manifest, pages)
    assert (raw_rows(conn), state(conn)) == before


def test_one_account_s_reports_stream_in_one_transaction(conn, paths):
    """Two reports: the second one flagged rolls back the first one's streamed rows as well."""
    primary = meta_batch("1.00", "run_1")
    adsets = meta_batch("1.00", "run_1")
    adsets[0]["report"] = "adset_insights"
    body = json.loads(adsets[1][0][1])
    for n, record in enumerate(body["data"]):
        record["adset_id"] = str(n)
    body["data"][0]["clicks"] = "5000"  # flagged: more clicks than impressions
    adsets = (adsets[0], [("page-00001.json", json.dumps(body).encode())])
    result = load_batches(conn, [primary, adsets])
    assert paths == ["rolled back", "validated first"]
    assert result["rows_loaded"] == DAYS * CAMPAIGNS
    assert [r["rows_quarantined"] for r in result["reports"]] == [0, 1]
    assert len(raw_rows(conn)) == DAYS * CAMPAIGNS
    assert len(raw_rows(conn, "meta__adset_insights")) == DAYS * CAMPAIGNS - 1
