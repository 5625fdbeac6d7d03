"""The daily ELT's task bodies. The DAG file only wires these together.

Every function takes plain values and returns JSON-safe dicts (XCom carries
no secrets: ids, dates, counts and lake URIs only).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from ads_elt import sync_state
from ads_elt.db import connect
from ads_elt.registry import PLATFORMS, load_registry, sync_window

log = logging.getLogger(__name__)


def _fail_without_retry(message: str) -> Exception:
    """An error that retrying cannot fix (bad config, revoked access, garbage data): fail the task now."""
    from airflow.exceptions import AirflowFailException

    return AirflowFailException(message)


class PlatformSyncError(RuntimeError):
    """One account's extract failed for a reason a retry may fix (outage, throttling)."""


def prepare(run_date: date) -> dict[str, Any]:
    """Validate the registry and make sure raw/ops exist, before anything else writes."""
    from ads_elt.registry import RegistryError
    from ads_elt.warehouse import ensure_schema

    try:
        registry = load_registry()
    except RegistryError as exc:  # names the file, field and problem; nothing has been written
        raise _fail_without_retry(f"invalid workspace registry: {exc}") from None
    with connect() as conn:
        ensure_schema(conn)
        with conn.cursor() as cur:
            # ops.workspace_accounts mirrors the registry for dbt (currencies, time zones).
            cur.execute("delete from ops.workspace_accounts")
            for ws in registry.workspaces:
                for a in ws.accounts:
                    cur.execute(
                        "insert into ops.workspace_accounts (workspace_id, platform, account_id, account_name, "
                        "currency, timezone, reporting_currency) values (%s, %s, %s, %s, %s, %s, %s)",
                        (ws.id, a.platform, a.account_id, a.name, a.currency, a.timezone, ws.currency),
                    )
        conn.commit()
    summary = {
        "registry": registry.path,
        "run_date": run_date.isoformat(),
        "workspaces": len(registry.workspaces),
        "accounts": {p: len(registry.accounts(p)) for p in PLATFORMS},
    }
    log.info("registry valid: %s", summary)
    return summary


def plan(platform: str, run_date: date, sync_run_id: str) -> list[dict[str, Any]]:
    """One scope per account of `platform`: the window this run re-pulls (from ops sync state)."""
    registry = load_registry()
    with connect() as conn:
        ends = sync_state.last_success_ends(conn, platform)
    scopes = []
    for account in registry.accounts(platform):
        start, end = sync_window(
            account, run_date, ends.get((account.workspace_id, account.account_id)), registry.initial_history_days
        )
        scopes.append(
            {
                "platform": platform,
                "workspace_id": account.workspace_id,
                "account_id": account.account_id,
                "connection": account.connection,
                "window_start": start.isoformat(),
                "window_end": end.isoformat(),
                "run_date": run_date.isoformat(),
                "sync_run_id": sync_run_id,
            }
        )
    log.info("%s: %d account(s) to sync: %s", platform, len(scopes), [(s["account_id"], s["window_start"], s["window_end"]) for s in scopes])
    return scopes


def _fetch(client, platform: str, account_id: str, since: date, until: date):
    if platform == "meta":
        return client.fetch_insights(account_id, since, until)
    if platform == "google_ads":
        return client.fetch_campaign_performance(account_id, since, until)
    raise ValueError(f"no extractor for platform {platform!r}")


def extract(scope: dict[str, Any]) -> dict[str, Any]:
    """Pull one account's window from its API into the lake. Returns the batch's lake URI."""
    from adapters import PLATFORMS as ADAPTERS
    from adapters.errors import AuthExpiredError, RateLimitedError, ReauthRequiredError, TransientError
    from ads_elt import lake
    from ads_elt.connections import client_for

    platform, account_id = scope["platform"], scope["account_id"]
    report = ADAPTERS[platform].report
    with connect() as conn:
        sync_state.record_attempt(conn, scope)
        try:
            client = client_for(platform, scope["connection"])
            directory = lake.batch_dir(
                platform, report, date.fromisoformat(scope["run_date"]), scope["workspace_id"], account_id, scope["sync_run_id"]
            )
            pages = _fetch(client, platform, account_id, date.fromisoformat(scope["window_start"]), date.fromisoformat(scope["window_end"]))
            manifest = lake.write_batch(
                directory,
                pages,
                {
                    "platform": platform,
                    "report": report,
                    "workspace_id": scope["workspace_id"],
                    "account_id": account_id,
                    "window_start": scope["window_start"],
                    "window_end": scope["window_end"],
                    "sync_run_id": scope["sync_run_id"],
                },
            )
        except Exception as exc:
            status = sync_state.REAUTH_REQUIRED if isinstance(exc, ReauthRequiredError) else sync_state.FAILED
            message = f"{platform} account {account_id} ({scope['workspace_id']}): {type(exc).__name__}: {exc}"
            sync_state.record_failure(conn, scope, status, message)
            # Outages and throttling are retried (the HTTP layer already backed off); bad credentials,
            # revoked access, permission errors and malformed answers are not: the next run retries them.
            if isinstance(exc, TransientError | RateLimitedError | AuthExpiredError | OSError):
                raise PlatformSyncError(message) from None
            raise _fail_without_retry(message) from None
    log.info("%s %s: %d page(s), %d record(s) -> %s", platform, account_id, len(manifest["pages"]), manifest["record_count"], directory)
    return {"uri": str(directory), "platform": platform, "account_id": account_id, "records": manifest["record_count"]}


def load(batch: dict[str, Any]) -> dict[str, Any]:
    """Load one lake batch into its raw table (replace-by-window)."""
    from ads_elt import lake
    from ads_elt.loader import load_batch

    directory, manifest = lake.read_manifest(batch["uri"])
    pages = list(lake.read_pages(directory, manifest))
    with connect() as conn:
        return load_batch(conn, manifest, pages)


def run_summary(sync_run_id: str, run_date: date) -> dict[str, Any]:
    """What this run did per account, and which accounts are behind. Fails if any account failed."""
    with connect() as conn, conn.cursor() as cur:
        cur.execute(
            "select platform, workspace_id, account_id, window_start, window_end, status, row_count, error "
            "from ops.sync_runs where sync_run_id = %s order by platform, workspace_id, account_id",
            (sync_run_id,),
        )
        runs = cur.fetchall()
        cur.execute(
            "select platform, workspace_id, account_id, status, last_success_window_end, last_error "
            "from ops.sync_state order by platform, workspace_id, account_id"
        )
        states = cur.fetchall()
    accounts = [
        {
            "platform": p,
            "workspace_id": w,
            "account_id": a,
            "window": f"{ws}..{we}",
            "status": s,
            "rows": n,
            "error": e,
        }
        for p, w, a, ws, we, s, n, e in runs
    ]
    behind = [
        {
            "platform": p,
            "workspace_id": w,
            "account_id": a,
            "status": s,
            "data_through": end.isoformat() if end else None,
            "days_behind": (run_date - end).days if end else None,
            "last_error": err,
        }
        for p, w, a, s, end, err in states
        if end is None or end < run_date
    ]
    for row in accounts:
        log.info("%(platform)-10s %(workspace_id)-14s %(account_id)-12s %(window)s %(status)-16s rows=%(rows)s", row)
    for b in behind:
        log.warning("BEHIND: %(platform)s %(workspace_id)s %(account_id)s data through %(data_through)s (%(days_behind)s days), %(status)s: %(last_error)s", b)
    failed = [r for r in accounts if r["status"] != "loaded"]
    summary = {"run_date": run_date.isoformat(), "accounts": accounts, "behind": behind, "failed": len(failed)}
    if failed:
        names = ", ".join(f"{r['platform']} {r['account_id']} ({r['status']})" for r in failed)
        raise _fail_without_retry(
            f"{len(failed)} account(s) did not sync: {names}. Their data is unchanged; the others reached the marts."
        )
    return summary


def alert_settings() -> dict[str, Any]:
    from ads_elt.alerts import WorkspaceAlertSettings

    registry = load_registry()
    return {
        ws.id: WorkspaceAlertSettings(
            workspace_id=ws.id, name=ws.name, dashboard_url=ws.dashboard_url, slack_connection=_existing_connection(ws.slack_connection)
        )
        for ws in registry.workspaces
    }


def _existing_connection(conn_id: str | None) -> str | None:
    """A configured channel counts only if its Connection exists; otherwise alerts go to the task log."""
    if not conn_id:
        return None
    from ads_elt.connections import ConnectionConfigError, _connection

    try:
        _connection(conn_id)
    except ConnectionConfigError:
        log.info("alert Connection %r is not defined: alerts go to the task log", conn_id)
        return None
    return conn_id


def alerts(run_date: date) -> dict[str, Any]:
    from ads_elt.alerts import run_alerts

    with connect() as conn:
        return run_alerts(conn, run_date, alert_settings())
