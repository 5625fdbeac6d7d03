"""The loader's streamed path: parse, COPY and validate a clean batch at once (the daily case).

Records are COPYed while the pages are still being parsed, by a writer thread that feeds the
server (which parses the JSON and writes on the other core), and each batch is validated
while the server writes its last rows. The writer deletes a dated batch's whole window before
its rows are known. If validation then flags any record, or the batch left out days that have
rows, the whole attempt is rolled back and ``load_streamed`` returns None: the loader then
validates first (``ads_elt.ingestion.loader``). Both ways give the same rows, quarantine and sync state
(``tests/test_loader_stream.py``).
"""

from __future__ import annotations

import logging
import queue
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from psycopg2 import sql

from ads_elt.ingestion import raw_batch
from ads_elt.ingestion.lake import LakeManifest
from ads_elt.ingestion.raw_batch import CopyText, PreparedBatch
from ads_elt.warehouse import raw_table

log = logging.getLogger(__name__)


class _NeedsValidationFirst(Exception):
    """The streamed load cannot stand: it is rolled back and the batches loaded validated-first."""


_STREAM_END = object()


@dataclass
class _StreamedBatch:
    """One batch on its way through the streamed load."""

    manifest: LakeManifest
    table: str
    entity_list: bool
    first_loaded: date | None
    # COPY text chunks, then _STREAM_END; unbounded, so the parser never waits for the server
    # (at most the batch's COPY text is held: less than its parsed records take).
    chunks: queue.Queue = field(default_factory=queue.Queue)
    deleted_by_day: dict[date | None, int] = field(default_factory=dict)  # old rows the writer deleted

    def window_days(self) -> list[date]:
        start, end = self.manifest.window_start, self.manifest.window_end
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
            params: list[Any] = [stream.manifest.workspace_id, stream.manifest.account_id]
            if not stream.entity_list:
                where = sql.SQL("{} and report_date = any(%s)").format(where)
                params.append(stream.window_days())
            cur.execute(
                sql.SQL(
                    "with deleted as (delete from {} where {} returning report_date) select report_date, count(*) from deleted group by 1"
                ).format(sql.Identifier("raw", stream.table), where),
                params,
            )
            stream.deleted_by_day = dict(cur.fetchall())

            def chunks(stream=stream):
                while (chunk := stream.chunks.get()) is not _STREAM_END:
                    yield chunk

            raw_batch.copy_rows(cur, stream.table, CopyText(chunks()))
    except BaseException as exc:  # noqa: BLE001 - raised again in the parsing thread
        failure.append(exc)  # the parser stops at its next chunk; what it already queued is dropped


def _parse_streamed(
    stream: _StreamedBatch, pages: list[tuple[str, bytes]], failure: list[BaseException]
) -> tuple[PreparedBatch, Any]:
    """The parsing thread's part of one batch: parse the pages, hand COPY text to the writer, validate.

    Validation runs while the server is still writing the batch's last chunks; it is skipped
    (None) once the writer has failed.
    """
    from ads_elt.ingestion.validation import validate_batch

    manifest = stream.manifest
    out = PreparedBatch(constants=raw_batch.batch_constants(manifest))
    line = raw_batch.copy_line_maker(out.constants)
    records = []
    pending: list[bytes] = []
    try:
        for record in raw_batch.iter_records(manifest, pages, out):
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
    window_start, window_end = manifest.window_start, manifest.window_end
    result = validate_batch(
        manifest.platform, records, window_start, window_end, stream.first_loaded, report=manifest.report
    )
    out.good = records
    return out, result


def _finish_streamed(stream: _StreamedBatch, out: PreparedBatch, result) -> int:
    """Check one streamed batch against what validation found; the rows it replaced. Raises ``_NeedsValidationFirst``."""
    from adapters import PLATFORMS

    if result.bad or result.rejected:
        raise _NeedsValidationFirst(result.rejected or f"{len(result.bad)} record(s) flagged")
    out.missing_days = result.missing_days
    out.breaking_days = result.breaking_days(out.good)
    if stream.entity_list or PLATFORMS[stream.manifest.platform].zoned:
        out.days = set(stream.window_days()) if not stream.entity_list else set()
    else:
        out.days = {record.report_date for record in out.good}
        kept_days = sorted(day for day, n in stream.deleted_by_day.items() if n and day not in out.days)
        if kept_days:  # the API left out days that have rows: they must stay
            raise _NeedsValidationFirst(f"{len(kept_days)} day(s) with rows not in the batch, first {kept_days[0]}")
    return sum(stream.deleted_by_day.values())


def load_streamed(conn, batches) -> list[tuple[LakeManifest, PreparedBatch, int]] | None:
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

    if conn.encoding not in ("UTF8", "UNICODE") or raw_batch.copy_line_maker(raw_batch.batch_constants(batches[0][0])) is None:
        return None
    streams = []
    try:
        with conn.cursor() as cur:
            raw_batch.lock_account(cur, batches[0][0])
            for manifest, _ in batches:
                table = raw_table(manifest.platform, manifest.report)
                entity_list = raw_batch.is_entity_list(manifest)
                first_loaded = None if entity_list else raw_batch.earliest_loaded_day(cur, table, manifest)
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
                raw_batch.write_quarantine(cur, stream.manifest, out.quarantined)
                written.append((stream.manifest, out, replaced))
    except _NeedsValidationFirst as exc:
        conn.rollback()
        log.info("%s: streamed load rolled back (%s); validating before the write", batches[0][0].account_id, exc)
        return None
    except BaseException:
        conn.rollback()
        raise
    return written
