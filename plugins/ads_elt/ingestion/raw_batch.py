"""A batch on its way into raw, step by step: what the loader (``ads_elt.ingestion.loader``) and its streamed path
(``ads_elt.ingestion.loader_stream``) are made of.

Lake pages are parsed into records by the report's parser and report date (``iter_records``;
a record without a valid date, or outside the window, is quarantined), validated into a
``PreparedBatch`` (``prepare_rows``), and written: the rows the batch replaces deleted (the
days it delivered; an entity list: all the account's rows), its good records COPYed a chunk
at a time as COPY text (``copy_rows``), its quarantine recorded (``write_quarantine``).
"""

from __future__ import annotations

import csv
import io
import itertools
import json
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import msgspec
from psycopg2 import sql

from ads_elt.ingestion.lake import LakeManifest

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
    check: str = "parse"
    report_date: date | None = None


# One encoder for every payload (json.dumps would build one per call); compact, non-ASCII kept as is.
_encode_payload = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False, check_circular=False).encode


_encode_payload_utf8 = msgspec.json.Encoder().encode  # the same JSON as UTF-8 bytes, several times faster


def copy_line_maker(constants: tuple[str, ...]):
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
        line = copy_line_maker(self.constants)
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


def _records(manifest: LakeManifest, pages: list[tuple[str, bytes]], out: PreparedBatch) -> list[Any]:
    """Every record (a ``validation.Record``) with a report date inside the window; the rest quarantined."""
    return list(iter_records(manifest, pages, out))


def iter_records(manifest: LakeManifest, pages: list[tuple[str, bytes]], out: PreparedBatch):
    """``_records`` as they are parsed, page by page (a lazy parser: batch by batch).

    Entity lists have no report date: every record is kept (with None).
    """
    from adapters import PLATFORMS, report_spec
    from ads_elt.ingestion.validation import Record

    spec = report_spec(manifest.platform, manifest.report)
    zoned = PLATFORMS[manifest.platform].zoned
    window_start = manifest.window_start
    window_end = manifest.window_end
    for name, body in pages:
        for i, record in enumerate(spec.parse_page(body), start=1):
            if spec.entity_list:
                yield Record(name, i, record, None)
                continue
            try:
                day = spec.report_date(record, manifest.timezone) if zoned else spec.report_date(record)
            except (KeyError, TypeError, ValueError) as exc:
                out.quarantined.append(
                    Quarantined(name, i, f"no valid report date ({type(exc).__name__}: {exc})", _encode_payload(record))
                )
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


def prepare_rows(manifest: LakeManifest, pages: list[tuple[str, bytes]], first_loaded_day: date | None = None) -> PreparedBatch:
    """Parse and validate lake pages; bad records go to quarantine with their reason.

    The good records' raw rows are made later, while COPY sends them (``PreparedBatch.rows``).
    """
    from adapters import PLATFORMS
    from ads_elt.ingestion.validation import validate_batch

    out = PreparedBatch(constants=batch_constants(manifest))
    records = _records(manifest, pages, out)
    result = validate_batch(
        manifest.platform,
        records,
        manifest.window_start,
        manifest.window_end,
        first_loaded_day,
        report=manifest.report,
    )
    out.rejected = result.rejected
    out.missing_days = result.missing_days
    out.breaking_days = result.breaking_days(records)
    out.days = {record.report_date for record in records if record.report_date is not None}
    if PLATFORMS[manifest.platform].zoned:
        # Store orders: the batch is every order changed in the window, so the whole window is replaced
        # (a day without changes has no rows, and an order that changed again moves to its new day).
        start, end = manifest.window_start, manifest.window_end
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
                Quarantined(
                    record.source,
                    record.line_number,
                    finding.reason,
                    _encode_payload(record.payload),
                    finding.check,
                    record.report_date,
                )
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


def copy_rows(cur, table: str, rows) -> None:
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


def write_quarantine(cur, manifest: LakeManifest, quarantined: list[Quarantined]) -> None:
    from psycopg2.extras import execute_values

    # A retried load of the same batch replaces what its earlier attempt quarantined.
    cur.execute(
        "delete from ops.quarantine where sync_run_id = %s and platform = %s and report = %s "
        "and workspace_id = %s and account_id = %s",
        (manifest.sync_run_id, manifest.platform, manifest.report, manifest.workspace_id, manifest.account_id),
    )
    if not quarantined:
        return
    execute_values(
        cur,
        "insert into ops.quarantine (platform, report, workspace_id, account_id, sync_run_id, source, "
        "line_number, reason, payload, check_name, report_date) values %s",
        [
            (
                manifest.platform,
                manifest.report,
                manifest.workspace_id,
                manifest.account_id,
                manifest.sync_run_id,
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


def earliest_loaded_day(cur, table: str, manifest: LakeManifest) -> date | None:
    cur.execute(
        sql.SQL("select min(report_date) from {} where workspace_id = %s and account_id = %s").format(
            sql.Identifier("raw", table)
        ),
        (manifest.workspace_id, manifest.account_id),
    )
    return cur.fetchone()[0]


def is_entity_list(manifest: LakeManifest) -> bool:
    from adapters import report_spec

    return report_spec(manifest.platform, manifest.report).entity_list


def _delete_replaced(cur, table: str, manifest: LakeManifest, days, entity_list: bool) -> int:
    """Delete the rows a batch replaces (the days it delivered; an entity list: all the account's rows)."""
    where = [sql.SQL("workspace_id = %s and account_id = %s")]
    params: list[Any] = [manifest.workspace_id, manifest.account_id]
    if not entity_list:
        where.append(sql.SQL("report_date = any(%s)"))
        params.append(sorted(days))
    cur.execute(sql.SQL("delete from {} where {}").format(sql.Identifier("raw", table), sql.SQL(" and ").join(where)), params)
    return cur.rowcount


def replace_rows(cur, table: str, manifest: LakeManifest, prepared: PreparedBatch, entity_list: bool) -> int:
    """Delete what the batch replaces, COPY its good records, write its quarantine."""
    replaced = _delete_replaced(cur, table, manifest, prepared.days, entity_list)
    copy_rows(cur, table, prepared)
    write_quarantine(cur, manifest, prepared.quarantined)
    return replaced


def batch_constants(manifest: LakeManifest) -> tuple[str, ...]:
    return tuple(
        str(getattr(manifest, k)) for k in ("workspace_id", "account_id", "sync_run_id", "window_start", "window_end", "extracted_at")
    )


def lock_account(cur, manifest: LakeManifest) -> None:
    """Serialise loads of the same account so two retries can't interleave."""
    cur.execute(
        "select pg_advisory_xact_lock(hashtext(%s))",
        (f"{manifest.platform}|{manifest.workspace_id}|{manifest.account_id}",),
    )
