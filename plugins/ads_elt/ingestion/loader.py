"""Raw loader: lake batch -> validation -> raw.<platform>__<report>, replacing the account's days.

1. Parse the lake pages into records; records without a valid report date go
   to quarantine.
2. Validate the batch (``ads_elt.ingestion.validation``, Great Expectations): bad
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

Steps 1-3 run at once for a clean batch (``ads_elt.ingestion.loader_stream``, the daily
case): records are COPYed while the pages are parsed and validated. If validation
then flags any record, or the batch left out days that have rows, the whole
attempt is rolled back and the batches go through steps 1-3 in order
(``_load_validated_first``). Both ways give the same rows, quarantine and sync
state (``tests/test_loader_stream.py``). The steps themselves (parse, prepare,
COPY, quarantine) are ``ads_elt.ingestion.raw_batch``.

Several reports per account (``adapters.PLATFORMS[p].extra``: finer grains, entity
lists) load together with ``load_batches``: each batch is validated against its
own report's checks, all of them replace their rows in one transaction, and the
sync state moves once, only if every report loaded (one rejected report rejects
the account's load: nothing of it is written but the quarantine). An entity list
(no report date) replaces all the account's rows in its table.
"""

from __future__ import annotations

import contextlib
import gc
import logging
from datetime import timedelta
from typing import Any

from ads_elt.ingestion import loader_stream, raw_batch, sync_state
from ads_elt.ingestion.lake import LakeManifest
from ads_elt.ingestion.raw_batch import RAW_COPY_COLUMNS, CopyText, PreparedBatch, Quarantined, prepare_rows
from ads_elt.warehouse import raw_table

__all__ = [
    "RAW_COPY_COLUMNS",
    "BatchRejectedError",
    "CopyText",
    "PreparedBatch",
    "Quarantined",
    "load_batch",
    "load_batches",
    "prepare_rows",
]

log = logging.getLogger(__name__)


class BatchRejectedError(RuntimeError):
    """Validation refused the whole batch: nothing loaded, sync state unchanged."""


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


def load_batch(conn, manifest: LakeManifest | dict[str, Any], pages: list[tuple[str, bytes]]) -> dict[str, Any]:
    """Validate the batch and replace the account's delivered days in its raw table, atomically.

    Raises ``BatchRejectedError`` (after recording the rejection) when the batch fails wholesale.
    """
    return load_batches(conn, [(manifest, pages)])


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


def _load_validated_first(conn, batches) -> list[tuple[LakeManifest, PreparedBatch, int]]:
    """Every batch validated before anything is written (only the good records COPYed), in one open transaction.

    Raises ``BatchRejectedError`` (after writing the quarantine and the failure) when a batch is rejected.
    """
    primary = batches[0][0]
    prepared_all = []
    for manifest, pages in batches:
        table = raw_table(manifest.platform, manifest.report)
        entity_list = raw_batch.is_entity_list(manifest)
        first_loaded = None
        if not entity_list:
            with conn.cursor() as cur:
                first_loaded = raw_batch.earliest_loaded_day(cur, table, manifest)
            conn.rollback()
        prepared_all.append((manifest, table, entity_list, prepare_rows(manifest, pages, first_loaded)))
    rejected = [(m, p) for m, _, _, p in prepared_all if p.rejected]
    if rejected:
        manifest, prepared = rejected[0]
        report = "" if manifest is primary else f" ({manifest.report} report)"
        message = (
            f"{manifest.account}: batch{report} "
            f"{manifest.window_start}..{manifest.window_end} rejected by validation: {prepared.rejected}. "
            "Nothing loaded; its records are in ops.quarantine."
        )
        with conn.cursor() as cur:
            for m, _, _, p in prepared_all:
                raw_batch.write_quarantine(cur, m, p.quarantined)
        conn.commit()
        sync_state.record_failure(conn, primary, sync_state.FAILED, message, run_status=sync_state.RUN_REJECTED)
        raise BatchRejectedError(message)
    with conn.cursor() as cur:
        raw_batch.lock_account(cur, primary)
        return [(manifest, prepared, raw_batch.replace_rows(cur, table, manifest, prepared, entity_list)) for manifest, table, entity_list, prepared in prepared_all]


def load_batches(conn, batches: list[tuple[LakeManifest | dict[str, Any], list[tuple[str, bytes]]]]) -> dict[str, Any]:
    """Load one account's batches (its primary report first, then its extra reports) in one transaction.

    The sync state moves once, to the earliest day any dated report could not deliver
    whole; if any batch is rejected, nothing is loaded (its quarantined records are kept)
    and ``BatchRejectedError`` names the report. The result describes the primary
    report (``rows_loaded``, ``issues``, ...) and each report under ``reports``.

    Two ways, one outcome. First the fast one (``loader_stream.load_streamed``): records are COPYed
    while the pages are parsed and validated, on both cores. If validation flags a single
    record, that attempt is rolled back and the batches are loaded the careful way
    (``_load_validated_first``): validated first, only the good records written. Clean
    batches, the daily case, pay for parsing and validation only where COPY cannot hide it.
    """
    if not batches:
        raise ValueError("load_batches: no batch to load")
    batches = [(LakeManifest.of(manifest), pages) for manifest, pages in batches]
    primary = batches[0][0]
    with _gc_paused():
        written = loader_stream.load_streamed(conn, batches)
        if written is None:
            written = _load_validated_first(conn, batches)
    breaking = [p.breaking_days[0] for _, p, _ in written if p.breaking_days]
    synced_through = min(breaking) - timedelta(days=1) if breaking else None
    issues_by_report = {m.report: _issues(p) for m, p, _ in written}
    issues = "; ".join(text if m is primary else f"{m.report}: {text}" for m, _, _ in written if (text := issues_by_report[m.report])) or None
    results = [
        {
            "report": manifest.report,
            "rows_loaded": prepared.row_count,
            "rows_replaced": replaced,
            "rows_quarantined": len(prepared.quarantined),
            "rows_outside_window": prepared.skipped,
            "missing_days": [d.isoformat() for d in prepared.missing_days],
            "issues": issues_by_report[manifest.report],
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
        "platform": primary.platform,
        "workspace_id": primary.workspace_id,
        "account_id": primary.account_id,
        "window_start": primary.window_start.isoformat(),
        "window_end": primary.window_end.isoformat(),
        "rows_loaded": results[0]["rows_loaded"],
        "rows_replaced": results[0]["rows_replaced"],
        "rows_quarantined": results[0]["rows_quarantined"],
        "rows_outside_window": results[0]["rows_outside_window"],
        "missing_days": results[0]["missing_days"],
        "synced_through": (synced_through or primary.window_end).isoformat(),
        "issues": issues,
        "reports": results,
    }
    log.info("loaded %s", result)
    return result
