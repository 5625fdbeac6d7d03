"""Sync state in `ops`: where each (platform, account) stands, and each attempt.

The run's scope comes from here: an account re-pulls from its last successful
window end minus the platform lookback, so one that failed for days catches up
by itself on its next good run.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from ads_elt.ingestion.lake import LakeManifest
from ads_elt.ingestion.scope import SyncScope

# Status values in ops.sync_state.status
OK = "ok"  # the last run loaded the whole window
INCOMPLETE = "incomplete"  # loaded, but days were missing or had rows quarantined: synced up to the day before
FAILED = "failed"  # the last attempt failed (outage, throttling past the budget, rejected batch); retried next run
REAUTH_REQUIRED = "reauth_required"  # credentials expired or revoked: no retries until a person reconnects
NEVER_SYNCED = "never_synced"

# Status values in ops.sync_runs.status
RUN_LOADED = "loaded"
RUN_LOADED_INCOMPLETE = "loaded_incomplete"
RUN_REJECTED = "rejected"
LOADED_STATUSES = (RUN_LOADED, RUN_LOADED_INCOMPLETE)


def last_success_ends(conn, platform: str) -> dict[tuple[str, str], date | None]:
    with conn.cursor() as cur:
        cur.execute(
            "select workspace_id, account_id, last_success_window_end from ops.sync_state where platform = %s",
            (platform,),
        )
        return {(w, a): end for w, a, end in cur.fetchall()}


def incomplete_window_starts(conn, platform: str) -> dict[tuple[str, str], date]:
    """Accounts whose last load was incomplete -> the start of that load's window.

    Their next window starts no earlier than this: the day that did not arrive whole
    lies inside that window, and days before it were never asked for.
    """
    with conn.cursor() as cur:
        cur.execute(
            "select workspace_id, account_id, last_success_window_start from ops.sync_state "
            "where platform = %s and status = %s and last_success_window_start is not null",
            (platform, INCOMPLETE),
        )
        return {(w, a): start for w, a, start in cur.fetchall()}


def record_attempt(conn, scope: SyncScope) -> None:
    with conn.cursor() as cur:
        cur.execute(
            """
            insert into ops.sync_state (platform, workspace_id, account_id, last_attempt_at, status)
            values (%(platform)s, %(workspace_id)s, %(account_id)s, now(), %(status)s)
            on conflict (platform, workspace_id, account_id)
            do update set last_attempt_at = now(), updated_at = now()
            """,
            scope.params(status=NEVER_SYNCED),
        )
        cur.execute(
            """
            insert into ops.sync_runs (sync_run_id, platform, workspace_id, account_id, window_start, window_end, status)
            values (%(sync_run_id)s, %(platform)s, %(workspace_id)s, %(account_id)s, %(window_start)s, %(window_end)s, 'extracting')
            on conflict (sync_run_id, platform, workspace_id, account_id)
            do update set window_start = excluded.window_start, window_end = excluded.window_end,
                status = 'extracting', error = null, started_at = now(), finished_at = null
            """,
            scope.params(),
        )
    conn.commit()


def record_failure(conn, scope: SyncScope | LakeManifest, status: str, error: str, run_status: str | None = None) -> dict[str, Any]:
    """Mark the account failed (the sync state's window does not move); returns its state row."""
    params = scope.params(status=status, run_status=run_status or status, error=error[:2000])
    with conn.cursor() as cur:
        cur.execute(
            """
            insert into ops.sync_state (platform, workspace_id, account_id, last_attempt_at, status)
            values (%(platform)s, %(workspace_id)s, %(account_id)s, now(), %(status)s)
            on conflict (platform, workspace_id, account_id) do nothing
            """,
            params,
        )
        cur.execute(
            """
            update ops.sync_state set status = %(status)s, last_error = %(error)s, updated_at = now(),
                failing_since = coalesce(failing_since, now()),
                consecutive_failures = consecutive_failures + 1
            where platform = %(platform)s and workspace_id = %(workspace_id)s and account_id = %(account_id)s
            returning failing_since, consecutive_failures, last_success_window_end
            """,
            params,
        )
        failing_since, failures, last_end = cur.fetchone()
        cur.execute(
            """
            update ops.sync_runs set status = %(run_status)s, error = %(error)s, finished_at = now()
            where sync_run_id = %(sync_run_id)s and platform = %(platform)s
              and workspace_id = %(workspace_id)s and account_id = %(account_id)s
            """,
            params,
        )
    conn.commit()
    return {"failing_since": failing_since, "consecutive_failures": failures, "last_success_window_end": last_end}


def record_success(
    cur,
    manifest: LakeManifest,
    row_count: int,
    *,
    synced_through: date | None = None,
    quarantined: int = 0,
    issues: str | None = None,
) -> None:
    """Advance the account's sync state; runs inside the load transaction.

    ``synced_through``: the last day before the first day the batch could not deliver
    whole (missing, or rows quarantined for their values). The state moves to it, even
    backwards, so the next run's window starts early enough to fetch that day again.
    None: the whole window loaded.
    """
    complete = synced_through is None
    params = manifest.params(
        row_count=row_count,
        through=manifest.window_end if complete else synced_through,
        complete=complete,
        status=OK if complete else INCOMPLETE,
        run_status=RUN_LOADED if complete else RUN_LOADED_INCOMPLETE,
        issues=issues,
        quarantined=quarantined,
    )
    cur.execute(
        """
        insert into ops.sync_state (platform, workspace_id, account_id, last_success_window_start,
            last_success_window_end, last_attempt_at, status, last_error)
        values (%(platform)s, %(workspace_id)s, %(account_id)s, %(window_start)s, %(through)s, now(), %(status)s, %(issues)s)
        on conflict (platform, workspace_id, account_id) do update set
            last_success_window_start = excluded.last_success_window_start,
            last_success_window_end = case when %(complete)s
                then greatest(ops.sync_state.last_success_window_end, excluded.last_success_window_end)
                else excluded.last_success_window_end end,
            status = excluded.status, last_error = excluded.last_error, updated_at = now(),
            failing_since = null, consecutive_failures = 0
        """,
        params,
    )
    cur.execute(
        """
        insert into ops.sync_runs (sync_run_id, platform, workspace_id, account_id, window_start, window_end,
            status, row_count, rows_quarantined, issues, finished_at)
        values (%(sync_run_id)s, %(platform)s, %(workspace_id)s, %(account_id)s, %(window_start)s, %(window_end)s,
            %(run_status)s, %(row_count)s, %(quarantined)s, %(issues)s, now())
        on conflict (sync_run_id, platform, workspace_id, account_id) do update set
            status = excluded.status, row_count = excluded.row_count, rows_quarantined = excluded.rows_quarantined,
            issues = excluded.issues, error = null, finished_at = now()
        """,
        params,
    )
