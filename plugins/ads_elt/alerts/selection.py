"""Which alerts go out: read from `marts.mart_alerts` (and the week's budget recommendations), recorded in `ops.alert_log`, deduplicated and suppressed."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date, timedelta
from typing import Any

from psycopg2 import sql

from ads_elt.alerts import states as alert_states
from ads_elt.alerts.formatting import (
    alert_key,
    as_date,
    dashboard_link,
    format_metric,
    format_money,
    metric_label,
    number,
    one_line,
    platform_label,
    severity_for,
)
from ads_elt.alerts.model import (
    ALERT_RELATION,
    DEFAULT_THRESHOLD,
    Alert,
    AlertSourceMissingError,
    WorkspaceAlertSettings,
)

log = logging.getLogger("ads_elt.alerts")


def _anomaly_message(prefix: str, metric: str, value, median, z, currency: str, day: date) -> str:
    z_text = f" (robust z {z:+.1f})" if z is not None else ""
    return (
        f"{prefix}: {metric_label(metric)} {format_metric(metric, value, currency)} on {day.isoformat()}, "
        f"usually {format_metric(metric, median, currency)}{z_text}"
    )


def build_alerts(
    alert_rows: Iterable[Mapping[str, Any]],
    workspaces: Mapping[str, WorkspaceAlertSettings],
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Alert]:
    """One Alert per row of `marts.mart_alerts` (or per flagged `mart_anomalies` row).

    Rows of a workspace missing from `workspaces` still produce alerts (named
    by the workspace id, without a link, delivered to the task log).
    """
    alerts: dict[str, Alert] = {}
    unknown: set[str] = set()
    for row in alert_rows:
        is_mart_alert = "source" in row
        if not is_mart_alert and not row.get("is_anomaly"):
            continue
        ws_id = str(row["workspace_id"])
        settings = workspaces.get(ws_id)
        if settings is None:
            unknown.add(ws_id)
            settings = WorkspaceAlertSettings(workspace_id=ws_id, name=ws_id)
        platform = str(row["platform"])
        campaign_id = str(row["campaign_id"])
        campaign_name = one_line(row.get("campaign_name") or campaign_id, 150)
        metric = str(row.get("metric") or "")
        source = str(row.get("source") or "anomaly")
        signal = str(row.get("signal") or metric)
        day = as_date(row["date_day"])
        currency = str(row.get("currency") or "")
        value = number(row.get("value"))
        median = number(row.get("baseline") if is_mart_alert else row.get("baseline_median"))
        z = number(row.get("robust_z"))
        history = row.get("history_days")
        key = alert_key(ws_id, platform, campaign_id, signal, day)
        prefix = f"{settings.name} · {platform_label(platform)} · {campaign_name}"
        explanation = one_line(row.get("explanation") or "", 400)
        if source == "anomaly":
            message = _anomaly_message(prefix, metric, value, median, z, currency, day)
        else:
            message = f"{prefix}: {explanation} on {day.isoformat()}"
        severity = str(row.get("severity") or severity_for(z, threshold))
        score = number(row.get("score"))
        alerts.setdefault(
            key,
            Alert(
                alert_key=key,
                workspace_id=ws_id,
                workspace_name=settings.name,
                platform=platform,
                account_id=str(row.get("account_id") or ""),
                campaign_id=campaign_id,
                campaign_name=campaign_name,
                metric=metric,
                date_day=day,
                currency=currency,
                value=value,
                baseline_median=median,
                baseline_mad=number(row.get("baseline_mad")),
                robust_z=z,
                history_days=int(history) if history is not None else None,
                direction=str(row.get("direction") or ""),
                severity=severity,
                message=message,
                dashboard_link=dashboard_link(
                    settings.dashboard_url,
                    workspace_id=ws_id,
                    platform=platform,
                    campaign_id=campaign_id,
                    day=day,
                ),
                entity_type=str(row.get("entity_type") or "campaign"),
                source=source,
                signal=signal,
                rule_id=row.get("rule_id"),
                explanation=explanation,
                score=score if score is not None else (abs(z) if z is not None else None),
                threshold=number(row.get("threshold") if is_mart_alert else row.get("z_threshold")),
                baseline_low=number(row.get("baseline_low")),
                baseline_high=number(row.get("baseline_high")),
                scoring_method=row.get("scoring_method"),
            ),
        )
    for ws_id in sorted(unknown):
        log.warning(
            "alerts for workspace %s, which is not in the registry: alerting to the task log",
            ws_id,
        )
    return list(alerts.values())


# --------------------------------------------------------------------------- alert log


SEVERITY_RANK = {"warning": 1, "critical": 2}
# Signals about the calendar month as a whole: budget pacing projects the month's spend, so once it was sent
# the month stays over plan for days after what caused it has stopped (a spike's spend stays in the month to
# date). Its repeat window is therefore the month so far (or `suppress_days`, when that reaches further back):
# one alert per campaign and month, and another only when the projection is worse.
MONTH_SIGNALS = frozenset({"budget_pacing"})


def record_and_select_new(
    conn,
    alerts: Sequence[Alert],
    settings: Mapping[str, WorkspaceAlertSettings] | None = None,
) -> list[Alert]:
    """Log alerts in `ops.alert_log`, suppress repeats; return those still to send.

    New rows are `pending`. A pending alert that was never delivered anywhere
    is held back (`suppressed`, with the series' state) when someone
    acknowledged its series or snoozed it past its date
    (`ads_elt.alerts.states`), and suppressed when the same entity and signal
    were sent within the workspace's `suppress_days` before its date and it
    is not worse (see the module docstring). Commits, so the log survives a
    crash before delivery.
    """
    first: dict[str, Alert] = {}
    for a in alerts:
        first.setdefault(a.alert_key, a)
    unique = list(first.values())
    if not unique:
        return []
    settings = settings or {}
    from psycopg2.extras import execute_values

    with conn.cursor() as cur:
        execute_values(
            cur,
            "insert into ops.alert_log (alert_key, workspace_id, platform, entity_id, metric, date_day, severity, "
            "message, entity_type, source, score) values %s on conflict (alert_key) do nothing",
            [
                (
                    a.alert_key,
                    a.workspace_id,
                    a.platform,
                    a.campaign_id,
                    a.signal or a.metric,
                    a.date_day,
                    a.severity,
                    a.message,
                    a.entity_type,
                    a.source,
                    a.score,
                )
                for a in unique
            ],
        )
        cur.execute(
            "select alert_key from ops.alert_log l where alert_key = any(%s) and status = 'pending' "
            "and not exists (select 1 from ops.alert_deliveries d where d.alert_key = l.alert_key)",
            ([a.alert_key for a in unique],),
        )
        undelivered = {r[0] for r in cur.fetchall()}
        for a in unique:
            if a.alert_key not in undelivered or a.source not in ("anomaly", "rule", "intraday"):
                continue  # a weekly recommendation is neither held back nor a repeat
            held = alert_states.holding(cur, a.workspace_id, a.platform, a.campaign_id, a.signal or a.metric, a.date_day)
            if held is not None:
                alert_states.inherit(cur, a.alert_key, held[0])
                log.info("not sent %s: its series is %s (%s)", a.alert_key, held[1], held[0])
                continue
            ws = settings.get(a.workspace_id) or WorkspaceAlertSettings(a.workspace_id, a.workspace_id)
            previous = _last_sent(cur, a, ws.suppress_days)
            if previous is None:
                continue
            prev_key, prev_score, prev_severity = previous
            worse = (a.score or 0.0) > (prev_score or 0.0) * (1.0 + ws.worsen_margin) or SEVERITY_RANK.get(
                a.severity, 0
            ) > SEVERITY_RANK.get(prev_severity, 0)
            if not worse:
                cur.execute(
                    "update ops.alert_log set status = 'suppressed', suppressed_by = %s where alert_key = %s",
                    (prev_key, a.alert_key),
                )
                log.info(
                    "suppressed %s: %s was sent within %d day(s) and this is not worse", a.alert_key, prev_key, ws.suppress_days
                )
        _group_totals_under_their_parts(cur, [a for a in unique if a.alert_key in undelivered])
        cur.execute(
            "select alert_key from ops.alert_log where alert_key = any(%s) and status = 'pending'",
            ([a.alert_key for a in unique],),
        )
        pending = {r[0] for r in cur.fetchall()}
    conn.commit()
    return [a for a in unique if a.alert_key in pending]


def _group_totals_under_their_parts(cur, alerts: Sequence[Alert]) -> None:
    """A platform's or a workspace's total is not sent beside an alert of the same signal, day and workspace on a part of it.

    When a campaign's spend spikes, its platform's total (and its workspace's) often crosses its own threshold on
    the same day: two or three messages about one event. The part's alert says where to act, so the total's is
    held back (`suppressed`, `suppressed_by` the part's alert) when an alert of a campaign of that platform (for a
    workspace total: of any platform or campaign) is to be sent or was sent for the same signal and day. A total
    no part explains is sent as before.
    """
    totals = [a for a in alerts if a.campaign_id == "all" and a.source in ("anomaly", "rule", "intraday")]
    for a in sorted(totals, key=lambda t: t.platform == "all"):  # platform totals first, then workspace totals
        cur.execute(
            "select alert_key from ops.alert_log "
            "where workspace_id = %s and metric = %s and date_day = %s and status in ('pending', 'sent') "
            "and alert_key <> %s and (entity_id <> 'all' or (%s = 'all' and platform <> 'all')) "
            "and (%s = 'all' or platform = %s) order by status desc, score desc nulls last, alert_key limit 1",
            (a.workspace_id, a.signal or a.metric, a.date_day, a.alert_key, a.platform, a.platform, a.platform),
        )
        part = cur.fetchone()
        if part is None:
            continue
        cur.execute(
            "update ops.alert_log set status = 'suppressed', suppressed_by = %s where alert_key = %s and status = 'pending'",
            (part[0], a.alert_key),
        )
        log.info("not sent %s: the alert of a part of it, %s, says the same", a.alert_key, part[0])


def _last_sent(cur, a: Alert, suppress_days: int) -> tuple[str, float | None, str] | None:
    """The latest sent alert of the same entity and signal in the `suppress_days` before `a`'s date
    (for a signal of `MONTH_SIGNALS`, since the first of its month when that is earlier)."""
    signal = a.signal or a.metric
    if suppress_days <= 0 and signal not in MONTH_SIGNALS:
        return None
    day = as_date(a.date_day)
    since = day - timedelta(days=max(suppress_days, 0))
    if signal in MONTH_SIGNALS:
        since = min(since, day.replace(day=1))
    cur.execute(
        "select alert_key, score, severity from ops.alert_log "
        "where workspace_id = %s and platform = %s and entity_id = %s and metric = %s and status = 'sent' "
        "and date_day < %s and date_day >= %s order by date_day desc, sent_at desc limit 1",
        (a.workspace_id, a.platform, a.campaign_id, signal, day, since),
    )
    row = cur.fetchone()
    return (row[0], row[1], row[2]) if row else None


def lock_pending(conn, keys: list[str]) -> set[str]:
    with conn.cursor() as cur:
        cur.execute(
            "select alert_key from ops.alert_log where alert_key = any(%s) and status = 'pending' "
            "order by alert_key for update skip locked",
            (keys,),
        )
        return {r[0] for r in cur.fetchall()}


def mark_sent(conn, keys: list[str], channel: str) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "update ops.alert_log set status = 'sent', sent_at = now(), channel = %s "
            "where alert_key = any(%s) and status = 'pending'",
            (channel, keys),
        )


ALERT_COLUMNS = (
    "alert_key",
    "date_day",
    "workspace_id",
    "platform",
    "account_id",
    "campaign_id",
    "campaign_name",
    "currency",
    "entity_type",
    "source",
    "signal",
    "rule_id",
    "metric",
    "direction",
    "value",
    "baseline",
    "baseline_mad",
    "baseline_low",
    "baseline_high",
    "robust_z",
    "threshold",
    "scoring_method",
    "history_days",
    "severity",
    "score",
    "explanation",
    "planned_change_id",
)


def fetch_alerts(conn, run_date: date | None, relation: str = ALERT_RELATION) -> list[dict[str, Any]]:
    """The rows of an alerts mart (`marts.mart_alerts`, or `marts.mart_intraday_alerts` with no date): one date's, or all."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass(%s)", (relation,))
        if cur.fetchone()[0] is None:
            conn.rollback()
            raise AlertSourceMissingError(
                f"{relation} does not exist in the warehouse: run the dbt build "
                "(it creates the alerts mart) before the alerts step"
            )
        where, params = (sql.SQL("where date_day = %s "), (run_date,)) if run_date is not None else (sql.SQL(""), ())
        cur.execute(
            sql.SQL("select {columns} from {relation} {where}order by workspace_id, platform, campaign_id, signal").format(
                columns=sql.SQL(", ").join(map(sql.Identifier, ALERT_COLUMNS)),
                relation=sql.Identifier(*relation.split(".")),
                where=where,
            ),
            params,
        )
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=False)) for r in cur.fetchall()]
    conn.commit()
    return rows


RECOMMENDATION_RELATION = "marts.mart_budget_recommendations"
WEEKLY_DIGEST_WEEKDAY = 0  # Monday: that day's digest carries the week's budget recommendations
MAX_RECOMMENDATIONS = 8


def fetch_recommendations(conn, run_date: date) -> dict[str, list[dict[str, Any]]]:
    """Per workspace, the budget moves `marts.mart_budget_recommendations` proposes on `run_date` (largest first)."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass(%s)", (RECOMMENDATION_RELATION,))
        if cur.fetchone()[0] is None:
            conn.rollback()
            return {}
        cur.execute(
            sql.SQL(
                "select workspace_id, platform, campaign_id, campaign_name, currency, recommendation, current_daily_budget, "
                "recommended_daily_budget, reason from {relation} "
                "where date_day = %s and recommendation in ('increase', 'decrease') "
                "order by workspace_id, abs(change_amount_reporting) desc, campaign_id"
            ).format(relation=sql.Identifier(*RECOMMENDATION_RELATION.split("."))),
            (run_date,),
        )
        names = [d[0] for d in cur.description]
        out: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for r in cur.fetchall():
            row = dict(zip(names, r, strict=True))
            out[row["workspace_id"]].append(row)
    conn.commit()
    return dict(out)


def recommendation_alerts(
    recommendations: Mapping[str, list[dict[str, Any]]], run_date: date, workspaces: Mapping[str, WorkspaceAlertSettings]
) -> list[Alert]:
    """One digest entry per workspace with the week's budget moves (sent once, like any alert)."""
    out = []
    for ws_id, rows in sorted(recommendations.items()):
        settings = workspaces.get(ws_id) or WorkspaceAlertSettings(ws_id, ws_id)
        moves = [
            f"{one_line(r['campaign_name'] or r['campaign_id'], 80)} ({platform_label(r['platform'])}): {r['recommendation']} "
            f"daily budget {format_money(number(r['current_daily_budget']), r['currency'])} -> "
            f"{format_money(number(r['recommended_daily_budget']), r['currency'])}"
            for r in rows[:MAX_RECOMMENDATIONS]
        ]
        more = (
            f"; {len(rows) - MAX_RECOMMENDATIONS} more in marts.mart_budget_recommendations"
            if len(rows) > MAX_RECOMMENDATIONS
            else ""
        )
        explanation = "; ".join(moves) + more
        key = alert_key(ws_id, "all", "all", "budget_recommendations", run_date)
        out.append(
            Alert(
                alert_key=key, workspace_id=ws_id, workspace_name=settings.name, platform="all", account_id="all",
                campaign_id="all", campaign_name="Budget recommendations for the week", metric="budget_recommendations",
                date_day=run_date, currency="", value=None, baseline_median=None, baseline_mad=None, robust_z=None,
                history_days=None, direction="", severity="info",
                message=f"{settings.name} · budget recommendations for the week of {run_date.isoformat()}: {explanation}",
                entity_type="workspace", source="recommendation", signal="budget_recommendations", explanation=explanation,
            )
        )  # fmt: skip
    return out
