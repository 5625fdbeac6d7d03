"""Sync state in `ops`: where each (platform, account) stands, and each attempt.

The run's scope comes from here: an account re-pulls from its last successful
window end minus the platform lookback, so one that failed for days catches up
by itself on its next good run.
"""

from __future__ import annotations

from datetime import date
from typing import Any

# Status values in ops.sync_state.status
OK = "ok"
FAILED = "failed"
REAUTH_REQUIRED = "reauth_required"
NEVER_SYNCED = "never_synced"


def last_success_ends(conn, platform: str) -> dict[tuple[str, str], date | None]:
    with conn.cursor() as cur:
        cur.execute(
            "select workspace_id, account_id, last_success_window_end from ops.sync_state where platform = %s",
            (platform,),
        )
        return {(w, a): end for w, a, end in cur.fetchall()}


def record_attempt(conn, scope: dict[str, Any]) -> None:
    with conn.cursor() as cur:
        cur.execute(
            """
            insert into ops.sync_state (platform, workspace_id, account_id, last_attempt_at, status)
            values (%(platform)s, %(workspace_id)s, %(account_id)s, now(), %(status)s)
            on conflict (platform, workspace_id, account_id)
            do update set last_attempt_at = now(), updated_at = now()
            """,
            {**scope, "status": NEVER_SYNCED},
        )
        cur.execute(
            """
            insert into ops.sync_runs (sync_run_id, platform, workspace_id, account_id, window_start, window_end, status)
            values (%(sync_run_id)s, %(platform)s, %(workspace_id)s, %(account_id)s, %(window_start)s, %(window_end)s, 'extracting')
            on conflict (sync_run_id, platform, workspace_id, account_id)
            do update set window_start = excluded.window_start, window_end = excluded.window_end,
                status = 'extracting', error = null, started_at = now(), finished_at = null
            """,
            scope,
        )
    conn.commit()


def record_failure(conn, scope: dict[str, Any], status: str, error: str) -> None:
    with conn.cursor() as cur:
        cur.execute(
            """
            update ops.sync_state set status = %(status)s, last_error = %(error)s, updated_at = now()
            where platform = %(platform)s and workspace_id = %(workspace_id)s and account_id = %(account_id)s
            """,
            {**scope, "status": status, "error": error[:2000]},
        )
        cur.execute(
            """
            update ops.sync_runs set status = %(status)s, error = %(error)s, finished_at = now()
            where sync_run_id = %(sync_run_id)s and platform = %(platform)s
              and workspace_id = %(workspace_id)s and account_id = %(account_id)s
            """,
            {**scope, "status": status, "error": error[:2000]},
        )
    conn.commit()


def record_success(cur, manifest: dict[str, Any], row_count: int) -> None:
    """Advance the account's sync state; runs inside the load transaction."""
    params = {**manifest, "row_count": row_count}
    cur.execute(
        """
        insert into ops.sync_state (platform, workspace_id, account_id, last_success_window_start,
            last_success_window_end, last_attempt_at, status, last_error)
        values (%(platform)s, %(workspace_id)s, %(account_id)s, %(window_start)s, %(window_end)s, now(), 'ok', null)
        on conflict (platform, workspace_id, account_id) do update set
            last_success_window_start = excluded.last_success_window_start,
            last_success_window_end = greatest(ops.sync_state.last_success_window_end, excluded.last_success_window_end),
            status = 'ok', last_error = null, updated_at = now()
        """,
        params,
    )
    cur.execute(
        """
        insert into ops.sync_runs (sync_run_id, platform, workspace_id, account_id, window_start, window_end,
            status, row_count, finished_at)
        values (%(sync_run_id)s, %(platform)s, %(workspace_id)s, %(account_id)s, %(window_start)s, %(window_end)s,
            'loaded', %(row_count)s, now())
        on conflict (sync_run_id, platform, workspace_id, account_id) do update set
            status = 'loaded', row_count = excluded.row_count, error = null, finished_at = now()
        """,
        params,
    )
