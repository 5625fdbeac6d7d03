"""The daily ELT's task bodies. The DAG file only wires these together.

Every function takes plain values and returns JSON-safe dicts (XCom carries
no secrets: ids, dates, counts and lake URIs only).
"""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

from ads_elt.ingestion import sync_state
from ads_elt.ingestion.scope import SyncScope
from ads_elt.registry import PLATFORMS, load_registry, sync_window
from ads_elt.warehouse.db import connect

log = logging.getLogger(__name__)


def fail_without_retry(message: str) -> Exception:
    """An error that retrying cannot fix (bad config, revoked access, garbage data): fail the task now."""
    from airflow.sdk.exceptions import AirflowFailException

    return AirflowFailException(message)


class PlatformSyncError(RuntimeError):
    """One account's extract failed for a reason a retry may fix (outage, throttling)."""


def prepare(run_date: date) -> dict[str, Any]:
    """Validate the registry and make sure raw/ops exist, before anything else writes.

    The registry's every problem stops the run before any write (all of them named at
    once). A Connection the registry names but Airflow lacks does not: the accounts on it
    fail their own extract with that error, the others sync (logged here, with the nearest
    Connection id that does exist).
    """
    from ads_elt.registry import RegistryError, known_connection_ids, missing_connections
    from ads_elt.warehouse import ensure_schema

    try:
        registry = load_registry()
    except RegistryError as exc:  # names the file, every field and problem; nothing has been written
        raise fail_without_retry(f"invalid workspace registry: {exc}") from None
    missing = missing_connections(registry)
    known = known_connection_ids() if missing else []
    for problem in missing:
        (log.error if problem.required else log.warning)("%s: %s", registry.path, problem.message(known))
    from ads_elt.warehouse.roles import ensure_roles, role_logins

    with connect() as conn:
        ensure_schema(conn)
        roles = ensure_roles(conn, role_logins())
        with conn.cursor() as cur:
            lifecycle = mirror_accounts(cur, registry)
            from ads_elt.alerts import mirror_workspace_settings

            mirror_workspace_settings(cur, registry)  # anomaly, rule and budget settings for dbt
        conn.commit()
    summary = {
        "registry": registry.path,
        "run_date": run_date.isoformat(),
        "workspaces": len(registry.workspaces),
        "accounts": {p: len(registry.accounts(p)) for p in PLATFORMS},
        "roles": roles,
        "missing_connections": [p.conn_id for p in missing if p.required],
        **lifecycle,
    }
    log.info("registry valid: %s", summary)
    return summary


def attribution_window(platform: str, workspace) -> str | None:
    """What ops.workspace_accounts.attribution_window says for an account: its platform's attribution (the
    adapter's ATTRIBUTION), or for a store the last-click window dbt attributes its orders with."""
    import adapters

    if platform in adapters.STORE_PLATFORMS:
        days = getattr(workspace, "attribution_window_days", None)
        within = f"{days} days" if days is not None else "the dbt var attribution_window_days (7 unless set)"
        return f"last click within {within}: orders attributed in dbt"
    spec = adapters.PLATFORMS.get(platform)
    return spec.attribution if spec is not None else None


def mirror_accounts(cur, registry) -> dict[str, list[str]]:
    """ops.workspace_accounts after the registry: its accounts and stores active, the others kept inactive.

    An account (or store) removed from the registry, alone or with its workspace, keeps its
    row (currency, time zone, reporting currency) with `active = false` and `deactivated_at`,
    so its history stays valid in the marts; it is neither synced nor alerted on. Put back,
    it is active again and its next sync starts from its sync state (where it stopped).
    Returns the keys (`workspace/platform/account`) deactivated and reactivated by this run.
    """
    cur.execute("select workspace_id, platform, account_id, active from ops.workspace_accounts")
    before = {(w, p, a): active for w, p, a, active in cur.fetchall()}
    registered = set()
    for ws in registry.workspaces:
        for a in (*ws.accounts, *ws.stores):  # stores too: their currency and time zone
            registered.add((ws.id, a.platform, a.account_id))
            cur.execute(
                "insert into ops.workspace_accounts (workspace_id, platform, account_id, account_name, currency, timezone, "
                "reporting_currency, attribution_window, active, deactivated_at) values (%s, %s, %s, %s, %s, %s, %s, %s, true, null) "
                "on conflict (workspace_id, platform, account_id) do update set account_name = excluded.account_name, "
                "currency = excluded.currency, timezone = excluded.timezone, reporting_currency = excluded.reporting_currency, "
                "attribution_window = excluded.attribution_window, active = true, deactivated_at = null",
                (ws.id, a.platform, a.account_id, a.name, a.currency, a.timezone, ws.currency, attribution_window(a.platform, ws)),
            )
    gone = sorted(k for k, active in before.items() if active and k not in registered)
    for key in gone:
        cur.execute(
            "update ops.workspace_accounts set active = false, deactivated_at = now() "
            "where workspace_id = %s and platform = %s and account_id = %s",
            key,
        )
    back = sorted(k for k, active in before.items() if not active and k in registered)
    for label, keys in (("deactivated", gone), ("reactivated", back)):
        if keys:
            log.info("%s %d account(s) and store(s): %s", label, len(keys), ["/".join(k) for k in keys])
    return {"deactivated": ["/".join(k) for k in gone], "reactivated": ["/".join(k) for k in back]}


def plan(platform: str, run_date: date, sync_run_id: str, only: dict[str, str] | None = None) -> list[SyncScope]:
    """One scope per account of `platform`: the window this run re-pulls (from ops sync state).

    `only` limits the run (a manual run's params): `workspace_id`, `platform`, `account_id`;
    a limit naming nothing in the registry is an error, not an empty run.
    """
    registry = load_registry()
    only = {k: v for k, v in (only or {}).items() if v}
    check_sync_limits(registry, only)
    if only.get("platform") not in (None, platform):
        log.info("%s: not in this run (limited to %s)", platform, only)
        return []
    with connect(role="loader") as conn:
        ends = sync_state.last_success_ends(conn, platform)
        floors = sync_state.incomplete_window_starts(conn, platform)
    scopes = []
    for account in registry.accounts(platform):
        if only.get("workspace_id") not in (None, account.workspace_id) or only.get("account_id") not in (None, account.account_id):
            continue
        key = (account.workspace_id, account.account_id)
        start, end = sync_window(account, run_date, ends.get(key), registry.initial_history_days)
        if key in floors:
            start = min(max(start, floors[key]), end)
        scopes.append(
            SyncScope(
                platform=platform,
                workspace_id=account.workspace_id,
                account_id=account.account_id,
                connection=account.connection,
                timezone=account.timezone,
                window_start=start,
                window_end=end,
                run_date=run_date,
                sync_run_id=sync_run_id,
            )
        )
    log.info("%s: %d account(s) to sync: %s", platform, len(scopes), [(s.account_id, str(s.window_start), str(s.window_end)) for s in scopes])
    return scopes


def check_sync_limits(registry, only: dict[str, str]) -> None:
    """A run limited to a workspace, platform or account must name ones the registry has."""
    unknown = set(only) - {"workspace_id", "platform", "account_id"}
    if unknown:
        raise ValueError(f"unknown sync limit(s) {sorted(unknown)}: use workspace_id, platform, account_id")
    if only.get("account_id") and not (only.get("platform") and only.get("workspace_id")):
        raise ValueError("a sync limited to account_id needs workspace_id and platform too")
    matches = [a for a in registry.accounts() if all(getattr(a, k) == v for k, v in only.items())]
    if only and not matches:
        raise ValueError(f"no account in the registry matches the run's limits {only}")


def _fetch(client, platform: str, account_id: str, since: date, until: date, report: str | None = None, timezone: str | None = None):
    """The pages of one report (default: the primary) for one account and window (``adapters.PLATFORMS``).

    Store orders are pulled by update time over the store's local days, so their fetch takes its time zone.
    """
    from adapters import PLATFORMS as ADAPTERS

    spec = ADAPTERS.get(platform)
    fetch = None if spec is None else (spec.get(report).fetch if report else spec.fetch)
    if fetch is None:
        raise ValueError(f"no extractor for platform {platform!r}" + (f" report {report!r}" if report else ""))
    if spec.zoned:
        if not timezone:
            raise ValueError(f"{platform} account {account_id}: the scope has no time zone")
        return fetch(client, account_id, since, until, timezone)
    return fetch(client, account_id, since, until)


def write_report_batch(scope: SyncScope, report: str, pages, **manifest_extra: Any) -> dict[str, Any]:
    """Write one report's pages for one account as a lake batch; returns its XCom entry (report, uri, records)."""
    from ads_elt.ingestion import lake

    directory = lake.batch_dir(scope.platform, report, scope.run_date, scope.workspace_id, scope.account_id, scope.sync_run_id)
    manifest = lake.write_batch(
        directory,
        pages,
        {
            "platform": scope.platform,
            "report": report,
            "workspace_id": scope.workspace_id,
            "account_id": scope.account_id,
            "window_start": scope.window_start.isoformat(),
            "window_end": scope.window_end.isoformat(),
            "sync_run_id": scope.sync_run_id,
            "timezone": scope.timezone,
            **manifest_extra,
        },
    )
    log.info(
        "%s %s %s: %d page(s), %d record(s) -> %s",
        scope.platform, report, scope.account_id, len(manifest["pages"]), manifest["record_count"], directory,
    )
    return {"report": report, "uri": str(directory), "records": manifest["record_count"]}


def batches_result(scope: SyncScope, batches: list[dict[str, Any]]) -> dict[str, Any]:
    """The extract's XCom: the primary report's batch at the top (``uri``, ``records``), every batch in ``batches``."""
    return {
        "uri": batches[0]["uri"],
        "platform": scope.platform,
        "account_id": scope.account_id,
        "records": batches[0]["records"],
        "batches": batches,
    }


def extract(scope: SyncScope | dict[str, Any]) -> dict[str, Any]:
    """Pull one account's window of every report of its platform into the lake, one batch per report.

    The primary (campaign-day) report comes first, then the platform's extra reports
    (``adapters.PLATFORMS[platform].extra``: finer grains, entity lists). Returns every
    batch's lake URI. A failure in any report fails the account, as follows
    (the HTTP layer has already retried what it could):
    outages and throttling past the retry budget -> ``PlatformSyncError`` (the task
    retries later); expired or revoked credentials -> the account is marked
    ``reauth_required``, one alert says what to do, no retries; anything else
    retrying cannot fix (permission, bad request, malformed answers) -> fails now.
    The sync state's window never moves on failure, so the next good run catches up.
    """
    from adapters import PLATFORMS as ADAPTERS
    from adapters.errors import RateLimitedError, ReauthRequiredError, TransientError
    from ads_elt.alerts import health
    from ads_elt.registry.connections import client_for

    scope = SyncScope.of(scope)
    platform, account_id = scope.platform, scope.account_id
    reports = ADAPTERS[platform].reports()
    since, until = scope.window_start, scope.window_end
    batches: list[dict[str, Any]] = []
    with connect(role="loader") as conn:
        sync_state.record_attempt(conn, scope)
        report = reports[0].report
        try:
            client = client_for(platform, scope.connection)
            for spec in reports:
                report = spec.report
                pages = _fetch(client, platform, account_id, since, until, report, scope.timezone)
                batches.append(write_report_batch(scope, report, pages))
        except Exception as exc:
            reauth = isinstance(exc, ReauthRequiredError)
            status = sync_state.REAUTH_REQUIRED if reauth else sync_state.FAILED
            which = "" if report == reports[0].report else f" {report} report"
            message = f"{platform} account {account_id} ({scope.workspace_id}){which}: {type(exc).__name__}: {exc}"
            state = sync_state.record_failure(conn, scope, status, message)
            if reauth:
                action = getattr(exc, "action", None) or ReauthRequiredError.action
                alert = health.reauth_alert(scope, exc, state["failing_since"].date(), action)
                health.raise_alerts(conn, [alert])
                raise fail_without_retry(f"{message}. Needs re-authorisation: {action}") from None
            if isinstance(exc, TransientError | RateLimitedError | OSError):
                raise PlatformSyncError(message) from None
            raise fail_without_retry(message) from None
    return batches_result(scope, batches)


def load(batch: dict[str, Any]) -> dict[str, Any]:
    """Validate one account's lake batches (one per report) and load them into their raw tables.

    Dated reports replace the days they delivered; entity lists replace the account's
    rows. All reports load in one transaction and the sync state moves once, only
    if every one of them loaded. Accepts an extract's XCom with ``batches`` or a
    single batch's ``uri``.
    """
    from ads_elt.ingestion import lake
    from ads_elt.ingestion.loader import BatchRejectedError, load_batches

    uris = [b["uri"] for b in batch.get("batches") or [batch]]
    loaded = []
    for uri in uris:
        directory, raw = lake.read_manifest(uri)
        manifest = lake.LakeManifest.of(raw)
        loaded.append((manifest, list(lake.read_pages(directory, manifest))))
    with connect(role="loader") as conn:
        try:
            return load_batches(conn, loaded)
        except BatchRejectedError as exc:
            raise fail_without_retry(str(exc)) from None


def run_summary(sync_run_id: str, run_date: date, freshness: dict[str, Any] | None = None) -> dict[str, Any]:
    """What this run did per account, and which accounts are behind. Fails if any account failed."""
    with connect(role="loader") as conn, conn.cursor() as cur:
        cur.execute(
            "select platform, workspace_id, account_id, window_start, window_end, status, row_count, "
            "rows_quarantined, coalesce(error, issues) "
            "from ops.sync_runs where sync_run_id = %s order by platform, workspace_id, account_id",
            (sync_run_id,),
        )
        runs = cur.fetchall()
        # Accounts removed from the registry are not behind: they are no longer synced (ops.workspace_accounts.active).
        cur.execute(
            "select s.platform, s.workspace_id, s.account_id, s.status, s.last_success_window_end, s.last_error, s.failing_since "
            "from ops.sync_state as s where not exists (select 1 from ops.workspace_accounts as a where a.workspace_id = "
            "s.workspace_id and a.platform = s.platform and a.account_id = s.account_id and not a.active) "
            "order by s.platform, s.workspace_id, s.account_id"
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
            "quarantined": q or 0,
            "error": e,
        }
        for p, w, a, ws, we, s, n, q, e in runs
    ]
    behind = [
        {
            "platform": p,
            "workspace_id": w,
            "account_id": a,
            "status": s,
            "data_through": end.isoformat() if end else None,
            "days_behind": (run_date - end).days if end else None,
            "failing_since": since.isoformat() if since else None,
            "last_error": err,
        }
        for p, w, a, s, end, err, since in states
        if end is None or end < run_date
    ]
    for row in accounts:
        log.info("%(platform)-10s %(workspace_id)-14s %(account_id)-12s %(window)s %(status)-18s rows=%(rows)s quarantined=%(quarantined)s", row)
    for b in behind:
        log.warning("BEHIND: %(platform)s %(workspace_id)s %(account_id)s data through %(data_through)s (%(days_behind)s days), %(status)s: %(last_error)s", b)
    failed = [r for r in accounts if r["status"] not in sync_state.LOADED_STATUSES]
    summary = {
        "run_date": run_date.isoformat(),
        "accounts": accounts,
        "behind": behind,
        "failed": len(failed),
        "freshness": freshness,
    }
    if failed:
        names = ", ".join(f"{r['platform']} {r['account_id']} ({r['status']})" for r in failed)
        raise fail_without_retry(
            f"{len(failed)} account(s) did not sync: {names}. Their data is unchanged; the others reached the marts."
        )
    return summary


def freshness() -> dict[str, Any]:
    """`dbt source freshness` per raw source (thresholds per platform in the sources' YAML).

    Returns ``{"status": pass|warn|error, "sources": {name: {status, max_loaded_at, age_hours}}}``;
    warnings are logged, an error fails the task (red) after the others have run.
    """
    import json
    import os
    import subprocess
    import tempfile
    from pathlib import Path

    from ads_elt.warehouse.db import role_conn_id
    from ads_elt.warehouse.dbt_cli import DBT_DIR, dbt_env, dbt_executable

    # dbt's parse of the project is kept between runs (beside Airflow's home), so a run after the first
    # parses only what changed; the results go to a folder of this run's own.
    parse_dir = Path(os.environ.get("AIRFLOW_HOME") or tempfile.gettempdir()) / "dbt-freshness"
    with tempfile.TemporaryDirectory(prefix="ads-elt-freshness-") as tmp:
        out = Path(tmp) / "sources.json"
        cmd = [
            dbt_executable(), "source", "freshness", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR),
            "--output", str(out), "--target-path", str(parse_dir / "target"), "--log-path", str(Path(tmp) / "logs"),
        ]
        proc = subprocess.run(cmd, env=dbt_env(role_conn_id("transformer")), capture_output=True, text=True)
        if not out.exists():
            raise RuntimeError(f"dbt source freshness did not run (exit {proc.returncode}): {proc.stdout[-1500:]}")
        results = json.loads(out.read_text()).get("results", [])
    # Only platforms some account uses: a platform nobody uses has an empty raw table, not a stale one.
    in_use = {a.platform for a in load_registry().accounts()}
    sources = {}
    for r in results:
        name = r["unique_id"].removeprefix("source.ads_elt.")
        if name.split(".", 1)[0] not in in_use:
            continue
        age = r.get("max_loaded_at_time_ago_in_s")
        sources[name] = {
            "status": r["status"],
            "max_loaded_at": r.get("max_loaded_at"),
            "age_hours": round(age / 3600, 1) if isinstance(age, int | float) else None,
        }
        (log.warning if r["status"] != "pass" else log.info)("freshness %-40s %-6s %s h", name, r["status"], sources[name]["age_hours"])
    worst = "error" if any(v["status"] in ("error", "runtime error") for v in sources.values()) else (
        "warn" if any(v["status"] == "warn" for v in sources.values()) else "pass"
    )
    summary = {"status": worst, "sources": sources}
    if worst == "error":
        stale = ", ".join(f"{k} ({v['age_hours']} h)" for k, v in sources.items() if v["status"] != "pass")
        raise fail_without_retry(f"raw data is stale past its error threshold: {stale}")
    return summary


def data_quality(sync_run_id: str, run_date: date) -> dict[str, Any]:
    """After dbt: consistency-check findings and this run's incomplete loads become alerts (once each)."""
    from ads_elt.alerts import health

    with connect(role="loader") as conn, connect(role="transformer") as marts:
        findings = health.consistency_alerts(conn)
        incomplete = health.incomplete_load_alerts(conn, sync_run_id, run_date)
        kept_out = health.quarantine_kept_out_rows(marts, conn, sync_run_id)
        incomplete += health.kept_out_alerts(kept_out, sync_run_id, run_date)
        deliveries = health.raise_alerts(conn, findings + incomplete)
    summary = {
        "consistency_findings": len(findings),
        "incomplete_loads": len(incomplete),
        "rows_kept_out": kept_out,
        "sent": sum(d["alerts"] for d in deliveries if d["status"] == "sent"),
        "checks": sorted({a.metric for a in findings}),
    }
    log.info("data quality: %s", summary)
    return summary


def alert_settings() -> dict[str, Any]:
    """Per workspace: its alert channels (only Connections that exist count) and suppression settings."""
    from ads_elt.alerts import WorkspaceAlertSettings

    registry = load_registry()
    out = {}
    for ws in registry.workspaces:
        a = ws.alerting
        email = _existing_connection(a.email_connection)
        out[ws.id] = WorkspaceAlertSettings(
            workspace_id=ws.id,
            name=ws.name,
            dashboard_url=ws.dashboard_url,
            slack_connection=_existing_connection(ws.slack_connection),
            slack_bot_connection=_existing_connection(a.slack_bot_connection),
            slack_channel=a.slack_channel,
            teams_connection=_existing_connection(a.teams_connection),
            email_connection=email,
            email_to=a.email_to if email else (),
            suppress_days=a.suppress_days,
            worsen_margin=a.worsen_margin,
        )
    return out


def _existing_connection(conn_id: str | None) -> str | None:
    """A configured channel counts only if its Connection exists; otherwise alerts go to the task log."""
    if not conn_id:
        return None
    from ads_elt.registry.connections import ConnectionConfigError, airflow_connection

    try:
        airflow_connection(conn_id)
    except ConnectionConfigError:
        log.info("alert Connection %r is not defined: alerts go to the task log", conn_id)
        return None
    return conn_id


def alerts(run_date: date) -> dict[str, Any]:
    from ads_elt.alerts import run_alerts

    with connect() as conn:
        return run_alerts(conn, run_date, alert_settings())
