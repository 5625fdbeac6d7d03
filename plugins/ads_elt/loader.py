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

Several reports per account (``adapters.PLATFORMS[p].extra``: finer grains, entity
lists) load together with ``load_batches``: each batch is validated against its
own report's checks, all of them replace their rows in one transaction, and the
sync state moves once, only if every report loaded (one rejected report rejects
the account's load: nothing of it is written but the quarantine). An entity list
(no report date) replaces all the account's rows in its table.
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
    skipped: int = 0  # store orders last updated outside the window (not this batch's)

    @property
    def row_count(self) -> int:
        return len(self.good)

    def __iter__(self):
        return self.rows()

    def copy_text_chunks(self, chunk_rows: int = 2000):
        """The rows as COPY text-format chunks, made as COPY reads them; None when a constant needs escaping.

        JSON text never holds a raw tab, newline or carriage return (the encoder escapes them), so
        doubling the payload's backslashes is the only escaping text format needs, as long as the
        batch's constants (ids, run id, dates) hold none of those four characters.
        """
        if any(ch in value for value in self.constants for ch in "\\\t\n\r"):
            return None
        workspace_id, account_id, sync_run_id, window_start, window_end, extracted_at = self.constants
        head = f"{workspace_id}\t{account_id}\t"
        tail = f"\t{sync_run_id}\t{window_start}\t{window_end}\t{extracted_at}\n"
        day_text = {day: f"{day.isoformat()}\t" for day in self.days}
        day_text[None] = "\\N\t"  # entity lists: no report date (NULL)
        encode = _encode_payload

        def chunks():
            good = self.good
            for start in range(0, len(good), chunk_rows):
                yield "".join(
                    head + day_text[r.report_date] + encode(r.payload).replace("\\", "\\\\") + tail for r in good[start : start + chunk_rows]
                )

        return chunks()

    def rows(self):
        """The raw rows (in RAW_COPY_COLUMNS order), made as they are read: each payload serialised once, here."""
        workspace_id, account_id, *rest = self.constants
        sync_run_id, window_start, window_end, extracted_at = rest
        for record in self.good:
            yield (
                workspace_id,
                account_id,
                record.report_date.isoformat() if record.report_date is not None else None,
                _encode_payload(record.payload),
                sync_run_id,
                window_start,
                window_end,
                extracted_at,
            )


def _records(manifest: dict[str, Any], pages: list[tuple[str, bytes]], out: PreparedBatch):
    """(Record, payload text) per record with a report date inside the window; the rest quarantined.

    Entity lists have no report date: every record is kept (with None).
    """
    from adapters import PLATFORMS, report_spec
    from ads_elt.validation import Record

    spec = report_spec(manifest["platform"], manifest["report"])
    zoned = PLATFORMS[manifest["platform"]].zoned
    window_start = date.fromisoformat(manifest["window_start"])
    window_end = date.fromisoformat(manifest["window_end"])
    found = []
    for name, body in pages:
        for i, record in enumerate(spec.parse_page(body), start=1):
            if spec.entity_list:
                found.append(Record(name, i, record, None))
                continue
            try:
                day = spec.report_date(record, manifest.get("timezone")) if zoned else spec.report_date(record)
            except (KeyError, TypeError, ValueError) as exc:
                out.quarantined.append(Quarantined(name, i, f"no valid report date ({type(exc).__name__}: {exc})", _encode_payload(record)))
                continue
            if zoned and not window_start <= day <= window_end:
                # Store lists filter by creation date (Salla, Zid) or by instants at the window's
                # edges: an order last changed outside the window belongs to another window.
                out.skipped += 1
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
    from adapters import PLATFORMS
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
        report=manifest.get("report"),
    )
    out.rejected = result.rejected
    out.missing_days = result.missing_days
    out.breaking_days = result.breaking_days(records)
    out.days = {record.report_date for record in records if record.report_date is not None}
    if PLATFORMS[manifest["platform"]].zoned:
        # Store orders: the batch is every order changed in the window, so the whole window is replaced
        # (a day without changes has no rows, and an order that changed again moves to its new day).
        start, end = date.fromisoformat(manifest["window_start"]), date.fromisoformat(manifest["window_end"])
        out.days.update(start + timedelta(days=n) for n in range((end - start).days + 1))
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
        "delete from ops.quarantine where sync_run_id = %s and platform = %s and report = %s "
        "and workspace_id = %s and account_id = %s",
        (manifest["sync_run_id"], manifest["platform"], manifest["report"], manifest["workspace_id"], manifest["account_id"]),
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
    return load_batches(conn, [(manifest, pages)])


def _is_entity_list(manifest: dict[str, Any]) -> bool:
    from adapters import report_spec

    return report_spec(manifest["platform"], manifest["report"]).entity_list


def _replace_rows(cur, table: str, manifest: dict[str, Any], prepared: PreparedBatch, entity_list: bool) -> int:
    """Delete what the batch replaces (the days it delivered; an entity list: all the account's rows), COPY it."""
    if entity_list:
        cur.execute(
            sql.SQL("delete from {} where workspace_id = %s and account_id = %s").format(sql.Identifier("raw", table)),
            (manifest["workspace_id"], manifest["account_id"]),
        )
    else:
        cur.execute(
            sql.SQL("delete from {} where workspace_id = %s and account_id = %s and report_date = any(%s)").format(
                sql.Identifier("raw", table)
            ),
            (manifest["workspace_id"], manifest["account_id"], sorted(prepared.days)),
        )
    replaced = cur.rowcount
    _copy_rows(cur, table, prepared)
    _write_quarantine(cur, manifest, prepared.quarantined)
    return replaced


def load_batches(conn, batches: list[tuple[dict[str, Any], list[tuple[str, bytes]]]]) -> dict[str, Any]:
    """Load one account's batches (its primary report first, then its extra reports) in one transaction.

    The sync state moves once, to the earliest day any dated report could not deliver
    whole; if any batch is rejected, nothing is loaded (its quarantined records are kept)
    and ``BatchRejectedError`` names the report. The result describes the primary
    report (``rows_loaded``, ``issues``, ...) and each report under ``reports``.
    """
    if not batches:
        raise ValueError("load_batches: no batch to load")
    primary = batches[0][0]
    prepared_all = []
    for manifest, pages in batches:
        table = RAW_TABLES[(manifest["platform"], manifest["report"])]
        entity_list = _is_entity_list(manifest)
        first_loaded = None
        if not entity_list:
            with conn.cursor() as cur:
                first_loaded = _first_loaded_day(cur, table, manifest)
            conn.rollback()
        prepared_all.append((manifest, table, entity_list, prepare_rows(manifest, pages, first_loaded)))
    rejected = [(m, p) for m, _, _, p in prepared_all if p.rejected]
    if rejected:
        manifest, prepared = rejected[0]
        report = "" if manifest is primary else f" ({manifest['report']} report)"
        message = (
            f"{manifest['platform']} account {manifest['account_id']} ({manifest['workspace_id']}): batch{report} "
            f"{manifest['window_start']}..{manifest['window_end']} rejected by validation: {prepared.rejected}. "
            "Nothing loaded; its records are in ops.quarantine."
        )
        with conn.cursor() as cur:
            for m, _, _, p in prepared_all:
                _write_quarantine(cur, m, p.quarantined)
        conn.commit()
        sync_state.record_failure(conn, primary, sync_state.FAILED, message, run_status=sync_state.RUN_REJECTED)
        raise BatchRejectedError(message)
    breaking = [p.breaking_days[0] for _, _, _, p in prepared_all if p.breaking_days]
    synced_through = min(breaking) - timedelta(days=1) if breaking else None
    issues_by_report = {m["report"]: _issues(p) for m, _, _, p in prepared_all}
    issues = "; ".join(
        text if m is primary else f"{m['report']}: {text}" for m, _, _, p in prepared_all if (text := issues_by_report[m["report"]])
    ) or None
    results = []
    with conn.cursor() as cur:
        # Serialise loads of the same account so two retries can't interleave.
        cur.execute(
            "select pg_advisory_xact_lock(hashtext(%s))",
            (f"{primary['platform']}|{primary['workspace_id']}|{primary['account_id']}",),
        )
        for manifest, table, entity_list, prepared in prepared_all:
            replaced = _replace_rows(cur, table, manifest, prepared, entity_list)
            results.append(
                {
                    "report": manifest["report"],
                    "rows_loaded": prepared.row_count,
                    "rows_replaced": replaced,
                    "rows_quarantined": len(prepared.quarantined),
                    "rows_outside_window": prepared.skipped,
                    "missing_days": [d.isoformat() for d in prepared.missing_days],
                    "issues": issues_by_report[manifest["report"]],
                }
            )
        sync_state.record_success(
            cur,
            primary,
            prepared_all[0][3].row_count,
            synced_through=synced_through,
            quarantined=sum(len(p.quarantined) for _, _, _, p in prepared_all),
            issues=issues,
        )
    conn.commit()
    result = {
        "platform": primary["platform"],
        "workspace_id": primary["workspace_id"],
        "account_id": primary["account_id"],
        "window_start": primary["window_start"],
        "window_end": primary["window_end"],
        "rows_loaded": results[0]["rows_loaded"],
        "rows_replaced": results[0]["rows_replaced"],
        "rows_quarantined": results[0]["rows_quarantined"],
        "rows_outside_window": results[0]["rows_outside_window"],
        "missing_days": results[0]["missing_days"],
        "synced_through": (synced_through.isoformat() if synced_through else primary["window_end"]),
        "issues": issues,
        "reports": results,
    }
    log.info("loaded %s", result)
    return result
