"""Several reports per platform: one account's primary report, a finer-grain report and an entity list load together.

The extra reports here are registered for the test only (the platform's real ones have
their own tests against the sandbox); what is under test is the loader's handling:
one transaction, the sync state moving once, entity lists replacing the account's rows,
and one rejected report rejecting the account's whole load.
"""

from __future__ import annotations

import dataclasses
import json
from datetime import date, timedelta

import pytest

import adapters
from adapters import FieldSpec, Report
from adapters.meta import parse_page, report_date
from ads_elt import warehouse
from ads_elt.ingestion.loader import BatchRejectedError, load_batches

END = date(2026, 11, 20)
START = END - timedelta(days=2)
DAYS = [START + timedelta(days=n) for n in range(3)]
WS, ACCOUNT, OTHER = "northwind_us", "1000000001", "1000000002"


def _entity_page(body: bytes) -> list[dict]:
    return json.loads(body)["data"]


@pytest.fixture
def reports(monkeypatch, pg_conn):
    meta = adapters.PLATFORMS["meta"]
    extra = (
        Report(
            "grain_test",
            parse_page,
            report_date,
            fields=(FieldSpec("adset_id", ("adset_id",), "text"), FieldSpec("spend", ("spend",), "number", default=0)),
            key=("adset_id",),
        ),
        Report(
            "entity_test", _entity_page, lambda record: None, entity_list=True, fields=(FieldSpec("id", ("id",), "text"),), key=("id",)
        ),
    )
    monkeypatch.setitem(adapters.PLATFORMS, "meta", dataclasses.replace(meta, extra=extra))
    warehouse.ensure_schema(pg_conn)
    return pg_conn


def manifest(report: str, account: str, run: str) -> dict:
    return {
        "platform": "meta",
        "report": report,
        "workspace_id": WS,
        "account_id": account,
        "window_start": START.isoformat(),
        "window_end": END.isoformat(),
        "sync_run_id": run,
        "extracted_at": "2026-11-21T06:00:00+00:00",
    }


def page(rows: list[dict]) -> list[tuple[str, bytes]]:
    return [("page-00001.json", json.dumps({"data": rows}).encode())]


def campaign_rows(days=DAYS) -> list[dict]:
    return [{"campaign_id": "11", "date_start": d.isoformat(), "spend": "10.00", "impressions": "100", "clicks": "5"} for d in days]


def adset_rows(days=DAYS, adset_id="21") -> list[dict]:
    return [{"campaign_id": "11", "adset_id": adset_id, "date_start": d.isoformat(), "spend": "10.00"} for d in days]


def batches(account: str, run: str, entities: list[dict], adsets: list[dict] | None = None):
    return [
        (manifest("insights", account, run), page(campaign_rows())),
        (manifest("grain_test", account, run), page(adset_rows() if adsets is None else adsets)),
        (manifest("entity_test", account, run), page(entities)),
    ]


def rows(conn, table: str) -> list[tuple]:
    with conn.cursor() as cur:
        cur.execute(f"select account_id, report_date, payload from raw.{table} order by 1, 2, payload::text")
        out = cur.fetchall()
    conn.commit()
    return out


def state(conn, account: str) -> tuple:
    with conn.cursor() as cur:
        cur.execute("select status, last_success_window_end from ops.sync_state where account_id = %s", (account,))
        out = cur.fetchone()
    conn.commit()
    return out


def test_every_report_lands_in_its_table_and_entity_lists_replace_the_accounts_rows(reports):
    conn = reports
    result = load_batches(conn, batches(ACCOUNT, "r1", [{"id": "11", "name": "A"}, {"id": "12", "name": "B"}]))
    load_batches(conn, batches(OTHER, "r1", [{"id": "31", "name": "C"}]))
    assert [r["report"] for r in result["reports"]] == ["insights", "grain_test", "entity_test"]
    assert result["rows_loaded"] == 3 and [r["rows_loaded"] for r in result["reports"]] == [3, 3, 2]
    assert len(rows(conn, "meta__insights")) == 6 and len(rows(conn, "meta__grain_test")) == 6
    assert [(a, d) for a, d, _ in rows(conn, "meta__entity_test")] == [(ACCOUNT, None), (ACCOUNT, None), (OTHER, None)]
    assert state(conn, ACCOUNT) == ("ok", END)

    # The next load's list replaces the account's list (a campaign gone from it is gone); the other account keeps its own.
    again = load_batches(conn, batches(ACCOUNT, "r2", [{"id": "11", "name": "A renamed"}]))
    assert again["reports"][2]["rows_replaced"] == 2
    assert [(a, p["name"]) for a, _, p in rows(conn, "meta__entity_test")] == [(ACCOUNT, "A renamed"), (OTHER, "C")]
    assert len(rows(conn, "meta__grain_test")) == 6  # dated reports replace their days, never duplicate


def test_a_day_missing_from_an_extra_report_holds_the_account_back(reports):
    conn = reports
    load_batches(conn, batches(ACCOUNT, "r1", [{"id": "11"}]))
    result = load_batches(conn, batches(ACCOUNT, "r2", [{"id": "11"}], adsets=adset_rows([DAYS[0], DAYS[2]])))
    assert state(conn, ACCOUNT) == ("incomplete", DAYS[0])
    assert result["issues"].startswith("grain_test: 1 day(s) missing")


def test_a_rejected_extra_report_rejects_the_accounts_load(reports):
    conn = reports
    load_batches(conn, batches(ACCOUNT, "r1", [{"id": "11"}]))
    before = {t: rows(conn, t) for t in ("meta__insights", "meta__grain_test", "meta__entity_test")}
    broken = [{k: v for k, v in r.items() if k != "adset_id"} for r in adset_rows()]
    new = batches(ACCOUNT, "r2", [{"id": "99"}], adsets=broken)
    new[0] = (new[0][0], page([{**r, "spend": "20.00"} for r in campaign_rows()]))
    with pytest.raises(BatchRejectedError, match=r"batch \(grain_test report\) .* no record has adset_id"):
        load_batches(conn, new)
    assert {t: rows(conn, t) for t in before} == before  # nothing of any report was written
    with conn.cursor() as cur:
        cur.execute("select report, count(*) from ops.quarantine where sync_run_id = 'r2' group by 1")
        assert cur.fetchall() == [("grain_test", 3)]
        cur.execute("select status, last_error from ops.sync_state where account_id = %s", (ACCOUNT,))
        status, error = cur.fetchone()
    conn.commit()
    assert status == "failed" and "grain_test report" in error


def test_an_entity_list_with_a_duplicate_keeps_the_first(reports):
    conn = reports
    result = load_batches(conn, batches(ACCOUNT, "r1", [{"id": "11", "name": "A"}, {"id": "11", "name": "A again"}, {"id": "12"}]))
    assert result["reports"][2]["rows_loaded"] == 2 and result["reports"][2]["rows_quarantined"] == 1
    assert {p["id"]: p.get("name") for _, _, p in rows(conn, "meta__entity_test")} == {"11": "A", "12": None}
