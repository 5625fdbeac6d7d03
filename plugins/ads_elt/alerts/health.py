"""Alerts about the pipeline's own health, each needing a person: re-authorisation, bad data, failed checks.

| alert (metric)                | raised when                                                     | key date           |
|-------------------------------|-----------------------------------------------------------------|--------------------|
| `reauth_required`             | an account's credentials expired or were revoked for good       | first failing day  |
| `data_incomplete`             | a load quarantined rows or the API left days out                | run date           |
| `data_incomplete` (rows kept out) | rows that cannot be completed (no registry entry, currency or FX rate) were kept out of the marts and quarantined | run date |
| `<consistency check>`         | a dbt consistency check (dbt_project/tests/generic/consistency_check.sql, thresholds in the `dq_thresholds` seed) found a row | the row's day |

Each is written to `ops.alert_log` under `workspace|platform|entity|metric|date`
before it is sent, so it goes out once: a revoked account alerts on its first
failing day and stays quiet on the following runs until it syncs again (a new
revocation after that alerts again). Delivery: the workspace's Slack
Connection (registry `alerts.slack_connection`) when it exists, else the ops
Connection `slack_ops`, else the task log. Messages carry ids, dates and
redacted errors only.
"""

from __future__ import annotations

import logging
import os
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from typing import Any

from psycopg2 import sql

from ads_elt.ingestion.scope import SyncScope

log = logging.getLogger(__name__)

# The dbt consistency checks (the generic test `consistency_check`, named in _marts__models.yml, storing
# their failures in schema `dq` under these names).
CONSISTENCY_CHECKS = (
    "assert_no_spend_without_metrics",
    "assert_ctr_at_most_100_percent",
    "assert_roas_within_sane_bound",
)
DQ_SCHEMA = "dq"


@dataclass(frozen=True)
class HealthAlert:
    workspace_id: str
    platform: str
    entity_id: str
    metric: str
    date_day: date
    severity: str
    message: str

    @property
    def alert_key(self) -> str:
        return f"{self.workspace_id}|{self.platform}|{self.entity_id}|{self.metric}|{self.date_day.isoformat()}"


def record_new(conn, alerts: list[HealthAlert]) -> list[HealthAlert]:
    """Insert into ops.alert_log; returns the alerts not sent before."""
    if not alerts:
        return []
    with conn.cursor() as cur:
        for a in alerts:
            cur.execute(
                "insert into ops.alert_log (alert_key, workspace_id, platform, entity_id, metric, date_day, severity, message) "
                "values (%s, %s, %s, %s, %s, %s, %s, %s) on conflict (alert_key) do nothing",
                (a.alert_key, a.workspace_id, a.platform, a.entity_id, a.metric, a.date_day, a.severity, a.message),
            )
        cur.execute(
            "select alert_key from ops.alert_log where alert_key = any(%s) and status = 'pending'",
            ([a.alert_key for a in alerts],),
        )
        pending = {r[0] for r in cur.fetchall()}
    conn.commit()
    seen: set[str] = set()
    out = []
    for a in alerts:
        if a.alert_key in pending and a.alert_key not in seen:
            seen.add(a.alert_key)
            out.append(a)
    return out


def _channel_for(workspace_id: str) -> str | None:
    from ads_elt.registry import load_registry
    from ads_elt.warehouse.db import connection_or_none

    candidates = []
    try:
        ws = load_registry().workspace(workspace_id)
        candidates.append(ws.slack_connection)
    except Exception:  # noqa: BLE001 - an unknown workspace still gets the ops channel
        pass
    candidates.append(os.environ.get("ADS_ELT_OPS_SLACK_CONN", "slack_ops"))
    for conn_id in candidates:
        if conn_id and connection_or_none(conn_id) is not None:
            return conn_id
    return None


def deliver(conn, alerts: list[HealthAlert]) -> list[dict[str, Any]]:
    """One message per workspace; alerts are marked sent once delivered (a failed send stays pending)."""
    by_workspace: dict[str, list[HealthAlert]] = defaultdict(list)
    for a in alerts:
        by_workspace[a.workspace_id].append(a)
    results = []
    for workspace_id, group in sorted(by_workspace.items()):
        text = f"Pipeline needs attention for workspace {workspace_id}:\n" + "\n".join(
            f"- [{a.severity}] {a.message}" for a in group
        )
        channel_conn = _channel_for(workspace_id)
        channel = f"slack:{channel_conn}" if channel_conn else "log"
        try:
            if channel_conn:
                from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

                SlackWebhookHook(slack_webhook_conn_id=channel_conn).send(text=text)
            else:
                log.warning("%s", text)
        except Exception as exc:  # noqa: BLE001 - left pending, tried again next run
            log.error("health alerts for %s not delivered via %s: %s", workspace_id, channel, type(exc).__name__)
            results.append({"workspace_id": workspace_id, "channel": channel, "status": "failed", "alerts": len(group)})
            continue
        with conn.cursor() as cur:
            cur.execute(
                "update ops.alert_log set status = 'sent', sent_at = now(), channel = %s where alert_key = any(%s)",
                (channel, [a.alert_key for a in group]),
            )
        conn.commit()
        results.append({"workspace_id": workspace_id, "channel": channel, "status": "sent", "alerts": len(group), "text": text})
    return results


def raise_alerts(conn, alerts: list[HealthAlert]) -> list[dict[str, Any]]:
    return deliver(conn, record_new(conn, alerts))


# -- the alerts -------------------------------------------------------------------


def reauth_alert(scope: SyncScope, error: Exception, failing_since: date, action: str) -> HealthAlert:
    return HealthAlert(
        workspace_id=scope.workspace_id,
        platform=scope.platform,
        entity_id=scope.account_id,
        metric="reauth_required",
        date_day=failing_since,
        severity="critical",
        message=(
            f"{scope.platform} account {scope.account_id} needs re-authorisation: the platform rejected its "
            f"credentials ({str(error)[:300]}). {action} Until then the account is not synced; the next run after "
            "that catches up on the missed days by itself."
        ),
    )


def incomplete_load_alerts(conn, sync_run_id: str, run_date: date) -> list[HealthAlert]:
    with conn.cursor() as cur:
        cur.execute(
            "select platform, workspace_id, account_id, issues from ops.sync_runs "
            "where sync_run_id = %s and issues is not null order by 1, 2, 3",
            (sync_run_id,),
        )
        rows = cur.fetchall()
    conn.commit()
    return [
        HealthAlert(
            workspace_id=w,
            platform=p,
            entity_id=a,
            metric="data_incomplete",
            date_day=run_date,
            severity="warning",
            message=(
                f"{p} account {a}: {issues}. Loaded what was valid; the affected days are fetched again on the next "
                f"run. Details: select * from ops.quarantine where sync_run_id = '{sync_run_id}' and account_id = '{a}'."
            ),
        )
        for p, w, a, issues in rows
    ]


def consistency_alerts(conn) -> list[HealthAlert]:
    """One alert per row the dbt consistency checks stored in schema `dq` (absent tables are skipped)."""
    alerts = []
    with conn.cursor() as cur:
        for check in CONSISTENCY_CHECKS:
            cur.execute("select to_regclass(%s)", (f"{DQ_SCHEMA}.{check}",))
            if cur.fetchone()[0] is None:
                continue
            cur.execute(
                sql.SQL(
                    "select check_name, workspace_id, platform, account_id, campaign_id, date_day, detail from {} "
                    "order by date_day, workspace_id, platform, campaign_id"
                ).format(sql.Identifier(DQ_SCHEMA, check))
            )
            for name, w, p, a, c, day, detail in cur.fetchall():
                alerts.append(
                    HealthAlert(
                        workspace_id=w,
                        platform=p,
                        entity_id=c,
                        metric=name,
                        date_day=day,
                        severity="warning",
                        message=f"{p} account {a} campaign {c} on {day}: {detail}",
                    )
                )
    conn.commit()
    return alerts


# -- rows kept out of the marts -------------------------------------------------------

# The marts listing rows dbt could not complete: (mart, its platform, account, entity and day columns, its reason
# column, the reasons that count; None: all). Their rows go to ops.quarantine (check_name = the mart).
KEPT_OUT = (
    ("mart_ad_performance_exceptions", "platform", "account_id", "campaign_id", "date_day", "exception_reason", None),
    ("mart_order_exceptions", "store_platform", "store_id", "order_id", "order_date", "reason", ("unknown_currency", "missing_rate", "unregistered_store")),
)


def quarantine_kept_out_rows(read_conn, write_conn, sync_run_id: str) -> dict[str, dict[str, int]]:
    """Copy the rows dbt kept out of the marts (or could not convert) into ops.quarantine, once each.

    Returns the newly quarantined rows per workspace and reason. `read_conn` reads the marts (the
    transformer role), `write_conn` writes ops (the loader role).
    """
    found = []
    with read_conn.cursor() as cur:
        for mart, platform, account, entity, day, reason, reasons in KEPT_OUT:
            cur.execute("select to_regclass(%s)", (f"marts.{mart}",))
            if cur.fetchone()[0] is None:
                continue
            query = sql.SQL("select workspace_id, {}, {}, {}, {}, {}, detail, to_jsonb(t)::text from {} as t").format(
                *(sql.Identifier(c) for c in (platform, account, entity, day, reason)), sql.Identifier("marts", mart)
            )
            if reasons:
                query += sql.SQL(" where {} = any(%s)").format(sql.Identifier(reason))
            cur.execute(query, (list(reasons),) if reasons else None)
            found += [(mart, *row) for row in cur.fetchall()]
    read_conn.commit()
    new: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    with write_conn.cursor() as cur:
        for mart, workspace, platform, account, entity, day, why, detail, payload in found:
            text = f"{why}: {detail}" if detail else why
            cur.execute(
                "insert into ops.quarantine (platform, report, workspace_id, account_id, sync_run_id, source, reason, payload, "
                "check_name, report_date) select %s, %s, %s, %s, %s, 'dbt', %s, %s, %s, %s where not exists ("
                "select 1 from ops.quarantine where check_name = %s and workspace_id = %s and platform = %s "
                "and account_id = %s and report_date = %s and reason = %s and payload = %s)",
                (platform, entity, workspace, account, sync_run_id, text, payload, mart, day,
                 mart, workspace, platform, account, day, text, payload),
            )  # fmt: skip
            if cur.rowcount:
                new[workspace][why] += 1
    write_conn.commit()
    return {w: dict(r) for w, r in new.items()}


def kept_out_alerts(new: dict[str, dict[str, int]], sync_run_id: str, run_date: date) -> list[HealthAlert]:
    """One `data_incomplete` alert per workspace that had rows newly kept out of its marts this run."""
    alerts = []
    for workspace, reasons in sorted(new.items()):
        counts = ", ".join(f"{n} {why}" for why, n in sorted(reasons.items()))
        alerts.append(
            HealthAlert(
                workspace_id=workspace,
                platform="all",
                entity_id="kept_out_rows",
                metric="data_incomplete",
                date_day=run_date,
                severity="warning",
                message=(
                    f"rows kept out of the marts or left without a reporting amount ({counts}): the registry, the "
                    "account's currency or the fx_rates seed needs a fix; the other workspaces are not affected. "
                    f"Details: select * from ops.quarantine where source = 'dbt' and workspace_id = '{workspace}' "
                    f"and sync_run_id = '{sync_run_id}'."
                ),
            )
        )
    return alerts
