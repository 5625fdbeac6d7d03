"""Raw loader: lake batch -> raw.<platform>__<report>, replacing the account's window.

One transaction per batch: delete the account's rows for the window, COPY the
new rows, write quarantined rows and advance the sync state. A load that dies
half way (exception or killed process) leaves the old rows; a rerun of the same
window leaves the same rows, never duplicates.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from psycopg2 import sql

from ads_elt import sync_state
from ads_elt.warehouse import RAW_TABLES

log = logging.getLogger(__name__)

RAW_COPY_COLUMNS = (
    "workspace_id",
    "account_id",
    "report_date",
    "payload",
    "sync_run_id",
    "window_start",
    "window_end",
    "extracted_at",
)


@dataclass
class Quarantined:
    source: str
    line_number: int
    reason: str
    payload: str


@dataclass
class PreparedBatch:
    rows: list[tuple] = field(default_factory=list)
    quarantined: list[Quarantined] = field(default_factory=list)


def prepare_rows(manifest: dict[str, Any], pages: list[tuple[str, bytes]]) -> PreparedBatch:
    """Parse lake pages into raw rows; rows that cannot be placed go to quarantine."""
    from adapters import PLATFORMS

    spec = PLATFORMS[manifest["platform"]]
    window_start = date.fromisoformat(manifest["window_start"])
    window_end = date.fromisoformat(manifest["window_end"])
    out = PreparedBatch()
    for name, body in pages:
        records = spec.parse_page(body)
        for i, record in enumerate(records, start=1):
            payload = json.dumps(record, separators=(",", ":"), ensure_ascii=False)
            try:
                day = spec.report_date(record)
            except (KeyError, TypeError, ValueError) as exc:
                out.quarantined.append(Quarantined(name, i, f"no valid report date ({type(exc).__name__}: {exc})", payload))
                continue
            if not window_start <= day <= window_end:
                out.quarantined.append(
                    Quarantined(name, i, f"report date {day} outside the requested window {window_start}..{window_end}", payload)
                )
                continue
            out.rows.append(
                (
                    manifest["workspace_id"],
                    manifest["account_id"],
                    day.isoformat(),
                    payload,
                    manifest["sync_run_id"],
                    manifest["window_start"],
                    manifest["window_end"],
                    manifest["extracted_at"],
                )
            )
    return out


def _copy_rows(cur, table: str, rows: list[tuple]) -> None:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    buf.seek(0)
    stmt = sql.SQL("copy {} ({}) from stdin with (format csv)").format(
        sql.Identifier("raw", table), sql.SQL(", ").join(map(sql.Identifier, RAW_COPY_COLUMNS))
    )
    cur.copy_expert(stmt.as_string(cur), buf)


def load_batch(conn, manifest: dict[str, Any], pages: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Replace the account's window in its raw table with this batch, atomically."""
    table = RAW_TABLES[(manifest["platform"], manifest["report"])]
    prepared = prepare_rows(manifest, pages)
    with conn.cursor() as cur:
        # Serialise loads of the same account so two retries can't interleave.
        cur.execute(
            "select pg_advisory_xact_lock(hashtext(%s))",
            (f"{manifest['platform']}|{manifest['workspace_id']}|{manifest['account_id']}",),
        )
        cur.execute(
            sql.SQL(
                "delete from {} where workspace_id = %s and account_id = %s and report_date between %s and %s"
            ).format(sql.Identifier("raw", table)),
            (manifest["workspace_id"], manifest["account_id"], manifest["window_start"], manifest["window_end"]),
        )
        replaced = cur.rowcount
        _copy_rows(cur, table, prepared.rows)
        for q in prepared.quarantined:
            cur.execute(
                "insert into ops.quarantine (platform, report, workspace_id, account_id, sync_run_id, source, "
                "line_number, reason, payload) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    manifest["platform"],
                    manifest["report"],
                    manifest["workspace_id"],
                    manifest["account_id"],
                    manifest["sync_run_id"],
                    q.source,
                    q.line_number,
                    q.reason,
                    q.payload,
                ),
            )
        sync_state.record_success(cur, manifest, len(prepared.rows))
    conn.commit()
    result = {
        "platform": manifest["platform"],
        "workspace_id": manifest["workspace_id"],
        "account_id": manifest["account_id"],
        "window_start": manifest["window_start"],
        "window_end": manifest["window_end"],
        "rows_loaded": len(prepared.rows),
        "rows_replaced": replaced,
        "rows_quarantined": len(prepared.quarantined),
    }
    log.info("loaded %s", result)
    return result
