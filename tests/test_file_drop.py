"""File drops: CSV/JSON in a workspace inbox, mapped by the registry, loaded once, bad rows quarantined."""

from __future__ import annotations

import json
from datetime import date, timedelta

import psycopg2
import pytest

from adapters.file_drop import FileDropFormat, parse_file

MAPPING = {
    "date": "Date",
    "campaign_id": "Campaign ID",
    "campaign_name": "Campaign name",
    "spend": "Spend in account currency",
    "impressions": "Impressions",
    "clicks": "Pin clicks",
    "conversions": "Checkouts",
    "conversion_value": "Checkout value",
}
CSV = FileDropFormat("csv", MAPPING, "%d/%m/%Y")
GOOD_AND_BAD = (
    b"Date,Campaign ID,Campaign name,Spend in account currency,Impressions,Pin clicks,Checkouts,Checkout value\n"
    b"01/11/2026,626744000001,Pins - Afternoon Tea,150.25,20000,140,4,130.50\n"
    b"01/11/2026,626744000002,Pins - Tea Gifts,120.10,15000,120,3,\n"
    b"02/11/2026,626744000001,Pins - Afternoon Tea,abc,21000,150,5,160.00\n"
    b"02/11/2026,626744000002,Pins - Tea Gifts,119.90,14900,118,2,80.00\n"
)
REGISTRY = """
version: 1
workspaces:
  - id: harbor_uk
    currency: GBP
    timezone: Europe/London
    accounts:
      - platform: file_drop
        account_id: harbor_pinterest
        file_drop:
          format: csv
          date_format: "%d/%m/%Y"
          columns: {columns}
""".replace("{columns}", json.dumps(MAPPING))


def test_parse_keeps_good_rows_and_names_the_bad_rows_line_and_reason():
    parsed = parse_file("export.csv", GOOD_AND_BAD, CSV)
    assert parsed.error is None
    assert [(r["date"], r["campaign_id"], r["spend"]) for r in parsed.rows] == [
        ("2026-11-01", "626744000001", "150.25"),
        ("2026-11-01", "626744000002", "120.10"),
        ("2026-11-02", "626744000002", "119.90"),
    ]
    assert parsed.rows[1]["conversion_value"] == "0"  # an empty optional field is zero
    assert [(b.line_number, b.reason) for b in parsed.bad_rows] == [(4, "spend 'abc' is not a number")]


def test_json_files_and_unreadable_files():
    spec = FileDropFormat("json", {"date": "day", "campaign_id": "id", "spend": "cost"})
    parsed = parse_file("x.json", b'[{"day": "2026-11-01", "id": 7, "cost": 1.5}, {"day": "yesterday", "id": 8, "cost": 1}]', spec)
    assert [(r["campaign_id"], r["spend"]) for r in parsed.rows] == [("7", "1.5")]
    assert parsed.bad_rows[0].line_number == 2 and "does not match" in parsed.bad_rows[0].reason
    assert "not valid JSON" in parse_file("x.json", b"{not json", spec).error
    assert "the header has no column 'Campaign name'" in parse_file("x.csv", b"Date,Campaign ID\n01/11/2026,1\n", CSV).error


@pytest.fixture
def env(pg_db, tmp_path, monkeypatch):
    """A warehouse with raw/ops tables, a lake, an inbox and a registry with one file-drop account."""
    server, dbname = pg_db
    monkeypatch.setenv(
        "AIRFLOW_CONN_WAREHOUSE",
        json.dumps({"conn_type": "postgres", "host": "127.0.0.1", "port": server.port, "login": "postgres", "password": server.password, "schema": dbname}),
    )
    monkeypatch.setenv("ADS_ELT_LAKE_ROOT", f"file://{tmp_path / 'lake'}")
    monkeypatch.setenv("ADS_ELT_FILE_DROP_ROOT", str(tmp_path / "inbox"))
    (tmp_path / "workspaces.yml").write_text(REGISTRY)
    monkeypatch.setenv("ADS_ELT_REGISTRY", str(tmp_path / "workspaces.yml"))
    conn = psycopg2.connect(server.dsn(dbname))
    from ads_elt.warehouse import ensure_schema

    ensure_schema(conn)
    conn.close()
    yield server.dsn(dbname), tmp_path / "inbox" / "harbor_uk" / "harbor_pinterest"


def run_once(run_id: str) -> dict:
    from ads_elt.ingestion import file_drop

    today = date(2026, 11, 20)
    scope = {
        "platform": "file_drop",
        "workspace_id": "harbor_uk",
        "account_id": "harbor_pinterest",
        "connection": "file_drop_default",
        "window_start": (today - timedelta(days=1)).isoformat(),
        "window_end": today.isoformat(),
        "run_date": today.isoformat(),
        "sync_run_id": run_id,
    }
    return file_drop.load(file_drop.extract(scope))


def state(dsn: str) -> dict:
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        cur.execute("select report_date, payload->>'campaign_id', payload->>'spend' from raw.file_drop__performance order by 1, 2")
        raw = cur.fetchall()
        cur.execute("select source, line_number, reason from ops.quarantine where platform = 'file_drop' order by id")
        quarantine = cur.fetchall()
        cur.execute("select file_name, status, rows_loaded, rows_quarantined from ops.file_drop_files order by loaded_at")
        files = cur.fetchall()
    conn.close()
    return {"raw": raw, "quarantine": quarantine, "files": files}


def test_a_csv_with_one_malformed_row_loads_the_rest_once(env):
    from sandbox.platforms.file_drop import drop_file

    dsn, inbox = env
    drop_file(inbox.parents[1], "harbor_uk", "harbor_pinterest", "export.csv", GOOD_AND_BAD)
    result = run_once("run-1")
    assert (result["rows_loaded"], result["rows_quarantined"]) == (3, 1)
    first = state(dsn)
    assert [(str(d), c, s) for d, c, s in first["raw"]] == [
        ("2026-11-01", "626744000001", "150.25"),
        ("2026-11-01", "626744000002", "120.10"),
        ("2026-11-02", "626744000002", "119.90"),
    ]
    assert first["quarantine"] == [("export.csv", 4, "spend 'abc' is not a number")]
    assert first["files"] == [("export.csv", "loaded", 3, 1)]
    assert not (inbox / "export.csv").exists() and (inbox / "processed" / "export.csv").exists()

    # The same file dropped again (even under another name): nothing changes.
    drop_file(inbox.parents[1], "harbor_uk", "harbor_pinterest", "export-again.csv", GOOD_AND_BAD)
    again = run_once("run-2")
    assert again["rows_loaded"] == 0 and again["files"] == 0
    assert state(dsn) == first
    assert (inbox / "processed" / "export-again.csv").exists()


def test_a_bad_file_is_moved_aside_with_its_reason_and_good_files_are_kept(env):
    from sandbox.platforms.file_drop import drop_file

    dsn, inbox = env
    drop_file(inbox.parents[1], "harbor_uk", "harbor_pinterest", "broken.csv", b"\xff\xfe not text")
    drop_file(inbox.parents[1], "harbor_uk", "harbor_pinterest", "good.csv", GOOD_AND_BAD)
    result = run_once("run-1")
    assert result["files_rejected"] == 1 and result["rows_loaded"] == 3
    assert (inbox / "rejected" / "broken.csv").exists()
    assert "not UTF-8" in (inbox / "rejected" / "broken.csv.reason.txt").read_text()
    assert (inbox / "processed" / "good.csv").read_bytes() == GOOD_AND_BAD
    assert ("broken.csv", None) in [(s, line) for s, line, _ in state(dsn)["quarantine"]]


def test_a_failed_load_leaves_the_files_in_the_inbox(env, monkeypatch):
    from ads_elt.ingestion import file_drop
    from sandbox.platforms.file_drop import drop_file

    dsn, inbox = env
    drop_file(inbox.parents[1], "harbor_uk", "harbor_pinterest", "export.csv", GOOD_AND_BAD)

    def broken(*args, **kwargs):
        raise RuntimeError("warehouse went away")

    monkeypatch.setattr(file_drop, "load_files", broken)
    with pytest.raises(RuntimeError):
        run_once("run-1")
    assert (inbox / "export.csv").read_bytes() == GOOD_AND_BAD
    assert state(dsn)["raw"] == []
    monkeypatch.undo()


def test_the_registry_validates_the_file_drop_section():
    import yaml

    from ads_elt.registry import RegistryError, parse_registry

    data = yaml.safe_load(REGISTRY)
    del data["workspaces"][0]["accounts"][0]["file_drop"]["columns"]["spend"]
    with pytest.raises(RegistryError, match=r"accounts\[0\]\.file_drop\.columns\.spend"):
        parse_registry(data)
