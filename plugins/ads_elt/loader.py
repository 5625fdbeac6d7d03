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

Steps 1-3 run at once for a clean batch (``_load_streamed``, the daily case):
records are COPYed while the pages are still being parsed, by a writer thread
that feeds the server (which parses the JSON and writes on the other core),
and each batch is validated while the server writes its last rows. The writer
deletes a dated batch's whole window before its rows are known. If validation
then flags any record, or the batch left out days that have rows, the whole
attempt is rolled back and the batches go through steps 1-3 in order
(``_load_validated_first``). Both ways give the same rows, quarantine and sync
state (``tests/test_loader_stream.py``).

Several reports per account (``adapters.PLATFORMS[p].extra``: finer grains, entity
lists) load together with ``load_batches``: each batch is validated against its
own report's checks, all of them replace their rows in one transaction, and the
sync state moves once, only if every report loaded (one rejected report rejects
the account's load: nothing of it is written but the quarantine). An entity list
(no report date) replaces all the account's rows in its table.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import itertools
import json
import logging
import queue
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import msgspec
from psycopg2 import sql

from ads_elt import sync_state
from ads_elt.warehouse import raw_table

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
_encode_payload_utf8 = msgspec.json.Encoder().encode  # the same JSON as UTF-8 bytes, several times faster


def _copy_line_maker(constants: tuple[str, ...]):
    """A function Record -> one COPY text-format line (UTF-8 bytes); None when a constant needs escaping.

    JSON text never holds a raw tab, newline or carriage return (the encoder escapes them), so
    doubling the payload's backslashes is the only escaping text format needs, as long as the
    batch's constants (ids, run id, dates) hold none of those four characters. Payloads are
    encoded by msgspec, which writes the same JSON as the standard library except that a NaN
    or infinite float (not JSON) becomes null rather than a token jsonb refuses.
    """
    if any(ch in value for value in constants for ch in "\\\t\n\r"):
        return None
    workspace_id, account_id, sync_run_id, window_start, window_end, extracted_at = constants
    head = f"{workspace_id}\t{account_id}\t".encode()
    tail = f"\t{sync_run_id}\t{window_start}\t{window_end}\t{extracted_at}\n".encode()
    day_text: dict[date | None, bytes] = {None: head + b"\\N\t"}  # entity lists: no report date (NULL)
    encode = _encode_payload_utf8

    def line(record) -> bytes:
        start = day_text.get(record.report_date)
        if start is None:
            start = day_text[record.report_date] = head + record.report_date.isoformat().encode() + b"\t"
        return start + encode(record.payload).replace(b"\\", b"\\\\") + tail

    return line


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
        """The rows as COPY text-format chunks (UTF-8 bytes), made as COPY reads them; None when a constant needs escaping."""
        line = _copy_line_maker(self.constants)
        if line is None:
            return None

        def chunks():
            good = self.good
            for start in range(0, len(good), chunk_rows):
                yield b"".join(map(line, good[start : start + chunk_rows]))

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


def _records(manifest: dict[str, Any], pages: list[tuple[str, bytes]], out: PreparedBatch) -> list[Any]:
    """Every record (a ``validation.Record``) with a report date inside the window; the rest quarantined."""
    return list(_iter_records(manifest, pages, out))


def _iter_records(manifest: dict[str, Any], pages: list[tuple[str, bytes]], out: PreparedBatch):
    """``_records`` as they are parsed, page by page (a lazy parser: batch by batch).

    Entity lists have no report date: every record is kept (with None).
    """
    from adapters import PLATFORMS, report_spec
    from ads_elt.validation import Record

    spec = report_spec(manifest["platform"], manifest["report"])
    zoned = PLATFORMS[manifest["platform"]].zoned
    window_start = date.fromisoformat(manifest["window_start"])
    window_end = date.fromisoformat(manifest["window_end"])
    for name, body in pages:
        for i, record in enumerate(spec.parse_page(body), start=1):
            if spec.entity_list:
                yield Record(name, i, record, None)
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
            yield Record(name, i, record, day)


def prepare_rows(
    manifest: dict[str, Any], pages: list[tuple[str, bytes]], first_loaded_day: date | None = None
) -> PreparedBatch:
    """Parse and validate lake pages; bad records go to quarantine with their reason.

    The good records' raw rows are made later, while COPY sends them (``PreparedBatch.rows``).
    """
    from adapters import PLATFORMS
    from ads_elt.validation import validate_batch

    out = PreparedBatch(constants=_constants(manifest))
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

    def read(self, size: int = -1) -> bytes | str:
        return next(self._chunks, b"")

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


@dataclass
class CopyText:
    """Rows already in COPY text format: an iterable of chunks (UTF-8 bytes), sent as they come."""

    chunks: Any

    def __iter__(self):
        return iter(self.chunks)


def _copy_rows(cur, table: str, rows) -> None:
    """COPY `rows` into raw.<table>, streamed.

    `rows`: a PreparedBatch (sent as text format), an iterator of text-format chunks (UTF-8
    bytes) in a ``CopyText``, or any iterable of row tuples (sent as CSV).
    """
    options = sql.SQL("")
    if isinstance(rows, PreparedBatch):
        chunks = rows.copy_text_chunks()
        if chunks is None:
            chunks = _csv_chunks(rows)
            options = sql.SQL(" with (format csv)")
    elif isinstance(rows, CopyText):
        chunks = iter(rows)
    else:
        chunks = _csv_chunks(rows)
        options = sql.SQL(" with (format csv)")
    if cur.connection.encoding not in ("UTF8", "UNICODE"):
        chunks = (c.decode() if isinstance(c, bytes) else c for c in chunks)  # psycopg2 re-encodes text
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


def _delete_replaced(cur, table: str, manifest: dict[str, Any], days, entity_list: bool) -> int:
    """Delete the rows a batch replaces (the days it delivered; an entity list: all the account's rows)."""
    where = [sql.SQL("workspace_id = %s and account_id = %s")]
    params: list[Any] = [manifest["workspace_id"], manifest["account_id"]]
    if not entity_list:
        where.append(sql.SQL("report_date = any(%s)"))
        params.append(sorted(days))
    cur.execute(sql.SQL("delete from {} where {}").format(sql.Identifier("raw", table), sql.SQL(" and ").join(where)), params)
    return cur.rowcount


def _replace_rows(cur, table: str, manifest: dict[str, Any], prepared: PreparedBatch, entity_list: bool) -> int:
    """Delete what the batch replaces, COPY its good records, write its quarantine."""
    replaced = _delete_replaced(cur, table, manifest, prepared.days, entity_list)
    _copy_rows(cur, table, prepared)
    _write_quarantine(cur, manifest, prepared.quarantined)
    return replaced


class _NeedsValidationFirst(Exception):
    """The streamed load cannot stand: it is rolled back and the batches loaded validated-first."""


_STREAM_END = object()


@dataclass
class _StreamedBatch:
    """One batch on its way through the streamed load."""

    manifest: dict[str, Any]
    table: str
    entity_list: bool
    first_loaded: date | None
    # COPY text chunks, then _STREAM_END; unbounded, so the parser never waits for the server
    # (at most the batch's COPY text is held: less than its parsed records take).
    chunks: queue.Queue = field(default_factory=queue.Queue)
    deleted_by_day: dict[date | None, int] = field(default_factory=dict)  # old rows the writer deleted

    def window_days(self) -> list[date]:
        start, end = date.fromisoformat(self.manifest["window_start"]), date.fromisoformat(self.manifest["window_end"])
        return [start + timedelta(days=n) for n in range((end - start).days + 1)]


def _write_streamed(cur, streams: list[_StreamedBatch], failure: list[BaseException]) -> None:
    """The writer thread: for each batch in turn, delete what it may replace, then COPY its chunks as they come.

    A dated batch's whole window is deleted before its rows are known (the days it delivers
    are checked afterwards, ``_finish_streamed``); an entity list's rows are all replaced.
    """
    pending = list(streams)
    try:
        while pending:
            stream = pending.pop(0)
            where = sql.SQL("workspace_id = %s and account_id = %s")
            params: list[Any] = [stream.manifest["workspace_id"], stream.manifest["account_id"]]
            if not stream.entity_list:
                where = sql.SQL("{} and report_date = any(%s)").format(where)
                params.append(stream.window_days())
            cur.execute(
                sql.SQL("with deleted as (delete from {} where {} returning report_date) select report_date, count(*) from deleted group by 1").format(
                    sql.Identifier("raw", stream.table), where
                ),
                params,
            )
            stream.deleted_by_day = dict(cur.fetchall())

            def chunks(stream=stream):
                while (chunk := stream.chunks.get()) is not _STREAM_END:
                    yield chunk

            _copy_rows(cur, stream.table, CopyText(chunks()))
    except BaseException as exc:  # noqa: BLE001 - raised again in the parsing thread
        failure.append(exc)  # the parser stops at its next chunk; what it already queued is dropped


def _parse_streamed(stream: _StreamedBatch, pages: list[tuple[str, bytes]], failure: list[BaseException]) -> tuple[PreparedBatch, Any]:
    """The parsing thread's part of one batch: parse the pages, hand COPY text to the writer, validate.

    Validation runs while the server is still writing the batch's last chunks; it is skipped
    (None) once the writer has failed.
    """
    from ads_elt.validation import validate_batch

    manifest = stream.manifest
    out = PreparedBatch(constants=_constants(manifest))
    line = _copy_line_maker(out.constants)
    records = []
    pending: list[bytes] = []
    try:
        for record in _iter_records(manifest, pages, out):
            records.append(record)
            pending.append(line(record))
            if len(pending) == 2000:
                if failure:
                    break
                stream.chunks.put(b"".join(pending))
                pending = []
        if pending and not failure:
            stream.chunks.put(b"".join(pending))
    finally:
        stream.chunks.put(_STREAM_END)
    if failure:
        return out, None
    window_start, window_end = date.fromisoformat(manifest["window_start"]), date.fromisoformat(manifest["window_end"])
    result = validate_batch(manifest["platform"], records, window_start, window_end, stream.first_loaded, report=manifest.get("report"))
    out.good = records
    return out, result


def _finish_streamed(stream: _StreamedBatch, out: PreparedBatch, result) -> int:
    """Check one streamed batch against what validation found; the rows it replaced. Raises ``_NeedsValidationFirst``."""
    from adapters import PLATFORMS

    if result.bad or result.rejected:
        raise _NeedsValidationFirst(result.rejected or f"{len(result.bad)} record(s) flagged")
    out.missing_days = result.missing_days
    out.breaking_days = result.breaking_days(out.good)
    if stream.entity_list or PLATFORMS[stream.manifest["platform"]].zoned:
        out.days = set(stream.window_days()) if not stream.entity_list else set()
    else:
        out.days = {record.report_date for record in out.good}
        kept_days = sorted(day for day, n in stream.deleted_by_day.items() if n and day not in out.days)
        if kept_days:  # the API left out days that have rows: they must stay
            raise _NeedsValidationFirst(f"{len(kept_days)} day(s) with rows not in the batch, first {kept_days[0]}")
    return sum(stream.deleted_by_day.values())


def _load_streamed(conn, batches) -> list[tuple[dict[str, Any], PreparedBatch, int]] | None:
    """Every batch COPYed while it is parsed, in one open transaction: (manifest, prepared, rows replaced) each.

    This thread parses the pages (a lazy parser hands over a searchStream batch or a page
    at a time), turns the records into COPY text and validates each batch; a writer thread
    deletes the window each batch may replace and feeds its rows to the server's COPY,
    which parses and writes them on the other core. Returns None (after a rollback) when a
    batch needs the validated-first path: validation flagged a record, the batch left out
    days that have rows, a constant needs escaping or the connection does not speak UTF-8.
    Raises (after a rollback) what parsing or the server raised.
    """
    import threading

    if conn.encoding not in ("UTF8", "UNICODE") or _copy_line_maker(_constants(batches[0][0])) is None:
        return None
    streams = []
    try:
        with conn.cursor() as cur:
            _lock_account(cur, batches[0][0])
            for manifest, _ in batches:
                table = raw_table(manifest["platform"], manifest["report"])
                entity_list = _is_entity_list(manifest)
                first_loaded = None if entity_list else _first_loaded_day(cur, table, manifest)
                streams.append(_StreamedBatch(manifest, table, entity_list, first_loaded))
            failure: list[BaseException] = []
            writer = threading.Thread(target=_write_streamed, args=(cur, streams, failure), name="raw-copy", daemon=True)
            writer.start()
            parsed = []
            try:
                for stream, (_, pages) in zip(streams, batches, strict=True):
                    parsed.append(_parse_streamed(stream, pages, failure))
                    if failure:
                        break
            finally:
                for stream in streams[len(parsed) :]:  # after an error: the writer finishes, then all is rolled back
                    stream.chunks.put(_STREAM_END)
                writer.join()
            if failure:
                raise failure[0]
            written = []
            for stream, (out, result) in zip(streams, parsed, strict=True):
                replaced = _finish_streamed(stream, out, result)
                _write_quarantine(cur, stream.manifest, out.quarantined)
                written.append((stream.manifest, out, replaced))
    except _NeedsValidationFirst as exc:
        conn.rollback()
        log.info("%s: streamed load rolled back (%s); validating before the write", batches[0][0]["account_id"], exc)
        return None
    except BaseException:
        conn.rollback()
        raise
    return written


@contextlib.contextmanager
def _gc_paused():
    """No cyclic garbage collection while a batch is parsed and validated.

    Decoding a page makes hundreds of thousands of dicts that live until the load ends;
    each few hundred of them sets off a collection pass over everything alive, which
    doubles the time a large batch takes to parse. Parsed JSON holds no reference cycles,
    so nothing is lost by waiting: collection resumes (as it was) when the load ends.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _constants(manifest: dict[str, Any]) -> tuple[str, ...]:
    return tuple(str(manifest[k]) for k in ("workspace_id", "account_id", "sync_run_id", "window_start", "window_end", "extracted_at"))


def _lock_account(cur, manifest: dict[str, Any]) -> None:
    """Serialise loads of the same account so two retries can't interleave."""
    cur.execute(
        "select pg_advisory_xact_lock(hashtext(%s))",
        (f"{manifest['platform']}|{manifest['workspace_id']}|{manifest['account_id']}",),
    )


def _load_validated_first(conn, batches) -> list[tuple[dict[str, Any], PreparedBatch, int]]:
    """Every batch validated before anything is written (only the good records COPYed), in one open transaction.

    Raises ``BatchRejectedError`` (after writing the quarantine and the failure) when a batch is rejected.
    """
    primary = batches[0][0]
    prepared_all = []
    for manifest, pages in batches:
        table = raw_table(manifest["platform"], manifest["report"])
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
    with conn.cursor() as cur:
        _lock_account(cur, primary)
        return [(manifest, prepared, _replace_rows(cur, table, manifest, prepared, entity_list)) for manifest, table, entity_list, prepared in prepared_all]


def load_batches(conn, batches: list[tuple[dict[str, Any], list[tuple[str, bytes]]]]) -> dict[str, Any]:
    """Load one account's batches (its primary report first, then its extra reports) in one transaction.

    The sync state moves once, to the earliest day any dated report could not deliver
    whole; if any batch is rejected, nothing is loaded (its quarantined records are kept)
    and ``BatchRejectedError`` names the report. The result describes the primary
    report (``rows_loaded``, ``issues``, ...) and each report under ``reports``.

    Two ways, one outcome. First the fast one (``_load_streamed``): records are COPYed
    while the pages are parsed and validated, on both cores. If validation flags a single
    record, that attempt is rolled back and the batches are loaded the careful way
    (``_load_validated_first``): validated first, only the good records written. Clean
    batches, the daily case, pay for parsing and validation only where COPY cannot hide it.
    """
    if not batches:
        raise ValueError("load_batches: no batch to load")
    primary = batches[0][0]
    with _gc_paused():
        written = _load_streamed(conn, batches)
        if written is None:
            written = _load_validated_first(conn, batches)
    breaking = [p.breaking_days[0] for _, p, _ in written if p.breaking_days]
    synced_through = min(breaking) - timedelta(days=1) if breaking else None
    issues_by_report = {m["report"]: _issues(p) for m, p, _ in written}
    issues = "; ".join(
        text if m is primary else f"{m['report']}: {text}" for m, _, _ in written if (text := issues_by_report[m["report"]])
    ) or None
    results = [
        {
            "report": manifest["report"],
            "rows_loaded": prepared.row_count,
            "rows_replaced": replaced,
            "rows_quarantined": len(prepared.quarantined),
            "rows_outside_window": prepared.skipped,
            "missing_days": [d.isoformat() for d in prepared.missing_days],
            "issues": issues_by_report[manifest["report"]],
        }
        for manifest, prepared, replaced in written
    ]
    with conn.cursor() as cur:
        sync_state.record_success(
            cur,
            primary,
            written[0][1].row_count,
            synced_through=synced_through,
            quarantined=sum(len(p.quarantined) for _, p, _ in written),
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
