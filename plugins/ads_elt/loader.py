"""Raw loader: lake batch -> validation -> raw.<platform>__<report>, replacing the account's days.

1. Parse the lake pages into records; records without a valid report date go
   to quarantine.
2. Validate the batch (``ads_elt.validation``, Great Expectations): bad
   records go to ``ops.quarantine`` with their payload and reason, missing
   account-days are noted. A batch that fails wholesale is not loaded at all,
   its quarantined records are kept for inspection and the account's sync state
   does not move (``BatchRejectedError``).
3. One transaction: delete the account's rows for every day the batch
   delivered, COPY the good records, write the quarantined ones, advance the
   sync state (only up to the day before the first day the batch could not
   deliver whole). Days the API left out keep their old rows.

A load that dies half way (exception or killed process) leaves the old rows; a
rerun of the same batch leaves the same rows, never duplicates.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import logging
from dataclasses import dataclass, field
from datetime import date, timedelta
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


class BatchRejectedError(RuntimeError):
    """Validation refused the whole batch: nothing loaded, sync state unchanged."""


@dataclass
class Quarantined:
    source: str
    line_number: int
    reason: str
    payload: str
    check: str = "parse"
    report_date: date | None = None


# One encoder for every payload (json.dumps would build one per call); compact, non-ASCII kept as is.
_encode_payload = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False).encode


@dataclass
class PreparedBatch:
    constants: tuple[str, ...] = ()  # the row's columns that are the same for every row of the batch
    good: list[Any] = field(default_factory=list)  # validation.Record of every record to load
    quarantined: list[Quarantined] = field(default_factory=list)
    days: set[date] = field(default_factory=set)  # days the batch delivered (replaced in raw)
    breaking_days: list[date] = field(default_factory=list)
    missing_days: list[date] = field(default_factory=list)
    rejected: str | None = None

    @property
    def row_count(self) -> int:
        return len(self.good)

    def __iter__(self):
        return self.rows()

    def copy_text_chunks(self, chunk_rows: int = 2000):
        """The rows as COPY text-format chunks, made as COPY reads them; None when a constant needs escaping.

        JSON text never holds a raw tab, newline or carriage return (the encoder escapes them), so
        doubling the backslashes of a whole chunk is the only escaping text format needs, as long
        as the batch's constants (ids, run id, dates) hold none of those four characters.
        """
        if any(ch in value for value in self.constants for ch in "\\\t\n\r"):
            return None
        workspace_id, account_id, sync_run_id, window_start, window_end, extracted_at = self.constants
        head = f"{workspace_id}\t{account_id}\t"
        tail = f"\t{sync_run_id}\t{window_start}\t{window_end}\t{extracted_at}\n"
        day_text = {day: f"{day.isoformat()}\t" for day in self.days}
        encode = _encode_payload

        def chunks():
            good = self.good
            for start in range(0, len(good), chunk_rows):
                lines = [head + day_text[r.report_date] + encode(r.payload) + tail for r in good[start : start + chunk_rows]]
                yield "".join(lines).replace("\\", "\\\\")

        return chunks()

    def rows(self):
        """The raw rows (in RAW_COPY_COLUMNS order), made as they are read: each payload serialised once, here."""
        workspace_id, account_id, *rest = self.constants
        sync_run_id, window_start, window_end, extracted_at = rest
        for record in self.good:
            yield (
                workspace_id,
                account_id,
                record.report_date.isoformat(),
                _encode_payload(record.payload),
                sync_run_id,
                window_start,
                window_end,
                extracted_at,
            )


def _records(manifest: dict[str, Any], pages: list[tuple[str, bytes]], out: PreparedBatch):
    """A Record per record with a report date inside the window; the rest quarantined."""
    from adapters import PLATFORMS
    from ads_elt.validation import Record

    spec = PLATFORMS[manifest["platform"]]
    window_start = date.fromisoformat(manifest["window_start"])
    window_end = date.fromisoformat(manifest["window_end"])
    found = []
    for name, body in pages:
        for i, record in enumerate(spec.parse_page(body), start=1):
            try:
                day = spec.report_date(record)
            except (KeyError, TypeError, ValueError) as exc:
                out.quarantined.append(Quarantined(name, i, f"no valid report date ({type(exc).__name__}: {exc})", _encode_payload(record)))
                continue
            if not window_start <= day <= window_end:
                out.quarantined.append(
                    Quarantined(
                        name,
                        i,
                        f"report date {day} outside the requested window {window_start}..{window_end}",
                        _encode_payload(record),
                        "window",
                        day,
                    )
                )
                continue
            found.append(Record(name, i, record, day))
    return found


def prepare_rows(
    manifest: dict[str, Any], pages: list[tuple[str, bytes]], first_loaded_day: date | None = None
) -> PreparedBatch:
    """Parse and validate lake pages; bad records go to quarantine with their reason.

    The good records' raw rows are made later, while COPY sends them (``PreparedBatch.rows``).
    """
    from ads_elt.validation import validate_batch

    out = PreparedBatch(
        constants=tuple(
            str(manifest[k]) for k in ("workspace_id", "account_id", "sync_run_id", "window_start", "window_end", "extracted_at")
        )
    )
    records = _records(manifest, pages, out)
    result = validate_batch(
        manifest["platform"],
        records,
        date.fromisoformat(manifest["window_start"]),
        date.fromisoformat(manifest["window_end"]),
        first_loaded_day,
    )
    out.rejected = result.rejected
    out.missing_days = result.missing_days
    out.breaking_days = result.breaking_days(records)
    out.days = {record.report_date for record in records}
    if not result.bad:
        out.good = records
        return out
    for index, record in enumerate(records):
        finding = result.bad.get(index)
        if finding is None:
            out.good.append(record)
        else:
            out.quarantined.append(
                Quarantined(record.source, record.line_number, finding.reason, _encode_payload(record.payload), finding.check, record.report_date)
            )
    return out


class _CopyStream:
    """A file-like object COPY reads from, a chunk of rows at a time.

    COPY pulls a chunk, sends it and pulls the next, so the server parses and writes one chunk
    while this process serialises the next (the two run on different cores); nothing holds
    the whole batch as text.
    """

    def __init__(self, chunks) -> None:
        self._chunks = iter(chunks)

    def read(self, size: int = -1) -> str:
        return next(self._chunks, "")

    readline = read


def _csv_chunks(rows, chunk_rows: int = 2000):
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    rows = iter(rows)
    while True:
        buf.seek(0)
        buf.truncate()
        writer.writerows(itertools.islice(rows, chunk_rows))
        text = buf.getvalue()
        if not text:
            return
        yield text


def _copy_rows(cur, table: str, rows) -> None:
    """COPY `rows` into raw.<table>, streamed: a PreparedBatch as text format, any iterable of tuples as CSV."""
    chunks = rows.copy_text_chunks() if isinstance(rows, PreparedBatch) else None
    options = sql.SQL("")
    if chunks is None:
        chunks = _csv_chunks(rows)
        options = sql.SQL(" with (format csv)")
    stmt = sql.SQL("copy {} ({}) from stdin{}").format(
        sql.Identifier("raw", table), sql.SQL(", ").join(map(sql.Identifier, RAW_COPY_COLUMNS)), options
    )
    cur.copy_expert(stmt.as_string(cur), _CopyStream(chunks))


def _write_quarantine(cur, manifest: dict[str, Any], quarantined: list[Quarantined]) -> None:
    from psycopg2.extras import execute_values

    # A retried load of the same batch replaces what its earlier attempt quarantined.
    cur.execute(
        "delete from ops.quarantine where sync_run_id = %s and platform = %s and workspace_id = %s and account_id = %s",
        (manifest["sync_run_id"], manifest["platform"], manifest["workspace_id"], manifest["account_id"]),
    )
    if not quarantined:
        return
    execute_values(
        cur,
        "insert into ops.quarantine (platform, report, workspace_id, account_id, sync_run_id, source, "
        "line_number, reason, payload, check_name, report_date) values %s",
        [
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
                q.check,
                q.report_date,
            )
            for q in quarantined
        ],
    )


def _first_loaded_day(cur, table: str, manifest: dict[str, Any]) -> date | None:
    cur.execute(
        sql.SQL("select min(report_date) from {} where workspace_id = %s and account_id = %s").format(sql.Identifier("raw", table)),
        (manifest["workspace_id"], manifest["account_id"]),
    )
    return cur.fetchone()[0]


def _issues(prepared: PreparedBatch) -> str | None:
    parts = []
    if prepared.missing_days:
        days = prepared.missing_days
        parts.append(f"{len(days)} day(s) missing from the API's answer ({days[0]}{'..' + str(days[-1]) if len(days) > 1 else ''})")
    counts: dict[str, int] = {}
    for q in prepared.quarantined:
        counts[q.check] = counts.get(q.check, 0) + 1
    if counts:
        parts.append("quarantined " + ", ".join(f"{n} {check}" for check, n in sorted(counts.items())))
    return "; ".join(parts) or None


def load_batch(conn, manifest: dict[str, Any], pages: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Validate the batch and replace the account's delivered days in its raw table, atomically.

    Raises ``BatchRejectedError`` (after recording the rejection) when the batch fails wholesale.
    """
    table = RAW_TABLES[(manifest["platform"], manifest["report"])]
    with conn.cursor() as cur:
        first_loaded = _first_loaded_day(cur, table, manifest)
    conn.rollback()
    prepared = prepare_rows(manifest, pages, first_loaded)
    if prepared.rejected:
        message = (
            f"{manifest['platform']} account {manifest['account_id']} ({manifest['workspace_id']}): batch "
            f"{manifest['window_start']}..{manifest['window_end']} rejected by validation: {prepared.rejected}. "
            "Nothing loaded; its records are in ops.quarantine."
        )
        with conn.cursor() as cur:
            _write_quarantine(cur, manifest, prepared.quarantined)
        conn.commit()
        sync_state.record_failure(conn, manifest, sync_state.FAILED, message, run_status=sync_state.RUN_REJECTED)
        raise BatchRejectedError(message)
    synced_through = prepared.breaking_days[0] - timedelta(days=1) if prepared.breaking_days else None
    issues = _issues(prepared)
    with conn.cursor() as cur:
        # Serialise loads of the same account so two retries can't interleave.
        cur.execute(
            "select pg_advisory_xact_lock(hashtext(%s))",
            (f"{manifest['platform']}|{manifest['workspace_id']}|{manifest['account_id']}",),
        )
        cur.execute(
            sql.SQL("delete from {} where workspace_id = %s and account_id = %s and report_date = any(%s)").format(
                sql.Identifier("raw", table)
            ),
            (manifest["workspace_id"], manifest["account_id"], sorted(prepared.days)),
        )
        replaced = cur.rowcount
        _copy_rows(cur, table, prepared)
        _write_quarantine(cur, manifest, prepared.quarantined)
        sync_state.record_success(
            cur, manifest, prepared.row_count, synced_through=synced_through, quarantined=len(prepared.quarantined), issues=issues
        )
    conn.commit()
    result = {
        "platform": manifest["platform"],
        "workspace_id": manifest["workspace_id"],
        "account_id": manifest["account_id"],
        "window_start": manifest["window_start"],
        "window_end": manifest["window_end"],
        "rows_loaded": prepared.row_count,
        "rows_replaced": replaced,
        "rows_quarantined": len(prepared.quarantined),
        "missing_days": [d.isoformat() for d in prepared.missing_days],
        "synced_through": (synced_through.isoformat() if synced_through else manifest["window_end"]),
        "issues": issues,
    }
    log.info("loaded %s", result)
    return result
