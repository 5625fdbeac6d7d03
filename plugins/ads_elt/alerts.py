"""Alerts: read from `marts.mart_alerts`, deduplicated and suppressed in `ops.alert_log`, delivered.

The alerts step runs after dbt. It reads the alerts `marts.mart_alerts` holds
for the run date (anomalies of the robust z-score detector and triggered seed
rules, each with its numbers, baseline, severity, explanation and dashboard
link), records each in `ops.alert_log`, holds back repeats (suppression), and
delivers one digest per workspace to each of its channels: Slack (Block Kit,
plus a chart uploaded with a bot token when one is configured), Microsoft
Teams (Adaptive Card) and email (SMTP). A workspace without any channel gets
the text in the task log.

Deduplication. `alert_key` = ``workspace|platform|campaign|signal|date`` (the
signal is the metric of an anomaly or the rule id of a rule) is the primary
key of `ops.alert_log`. A row is inserted as `pending` the first time its
alert appears and set to `sent` once every channel of its workspace has it
(`ops.alert_deliveries` records each channel, so a failing channel never
makes the others repeat). A rerun of the same date sends nothing new; an
alert whose send failed stays `pending` and goes out on the next attempt.
Rows being delivered are locked (``for update skip locked``), so two
overlapping runs never both send them.

Suppression. A new alert whose entity (workspace, platform, campaign) and
signal were last *sent* fewer than `suppress_days` days before its date is
set to `suppressed` (with `suppressed_by` = the sent key) unless it is worse:
its score (|robust z|, or how far beyond the rule's threshold) exceeds the
sent one's by more than `worsen_margin`, or its severity is higher. A
chronic condition is therefore repeated every `suppress_days` days, and a
worsening one at once.

Charts. Each workspace digest gets a PNG (`ads_elt.charts`): each alerted
metric's last 60 days with its baseline band and the alert day marked. It is
saved under the alert artifacts folder (`ADS_ELT_ALERT_ARTIFACTS`, default
`.local/alerts/`; its path is in `ops.alert_log.chart_path`) and, when the
workspace has `slack_bot_connection` and `slack_channel`, uploaded to Slack.

Secrets (webhook URLs, tokens, passwords) never appear in messages, log
records or exceptions raised here.
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from ads_elt import alert_states, links

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 3.5
CRITICAL_FACTOR = 2.0
ANOMALY_RELATION = "marts.mart_anomalies"
ALERT_RELATION = "marts.mart_alerts"
LOG_CHANNEL = "log"

# Block Kit limits (https://api.slack.com/reference/block-kit/blocks).
MAX_BLOCKS = 50
MAX_HEADER_CHARS = 150
MAX_SECTION_CHARS = 3000
MAX_CONTEXT_CHARS = 3000
# Alerts per Slack message: header + context + one section each stays far
# below MAX_BLOCKS. A workspace with more alerts in one run gets numbered parts.
ALERTS_PER_MESSAGE = 40

PLATFORM_LABELS = {
    "meta": "Meta",
    "google_ads": "Google Ads",
    "tiktok": "TikTok",
    "snapchat": "Snapchat",
    "linkedin": "LinkedIn",
    "amazon_ads": "Amazon Ads",
    "file_drop": "File drop",
    "all": "All platforms",
}
METRIC_LABELS = {
    "spend": "Spend",
    "ctr": "CTR",
    "cvr": "CVR",
    "cpa": "CPA",
    "roas": "ROAS",
    "acos": "ACOS",
}
MONEY_METRICS = {"spend", "cpa"}
PERCENT_METRICS = {"ctr", "cvr", "acos"}
MULTIPLE_METRICS = {"roas"}

CURRENCY_SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "INR": "₹",
    "KRW": "₩",
    "CAD": "CA$",
    "AUD": "A$",
    "NZD": "NZ$",
    "BRL": "R$",
    "MXN": "MX$",
}
ZERO_DECIMAL_CURRENCIES = {
    "JPY",
    "KRW",
    "CLP",
    "VND",
    "ISK",
    "HUF",
    "TWD",
    "UGX",
    "XAF",
    "XOF",
}
THREE_DECIMAL_CURRENCIES = {"BHD", "KWD", "OMR", "JOD", "TND", "IQD", "LYD"}

SEVERITY_EMOJI = {"critical": ":rotating_light:", "warning": ":warning:"}
DIRECTION_WORDS = {"up": "↑ up", "down": "↓ down"}

class AlertSourceMissingError(RuntimeError):
    """The anomalies mart the alerts step reads does not exist in the warehouse."""


class AlertDeliveryError(RuntimeError):
    """At least one workspace's message could not be delivered; its alerts stay pending.

    `deliveries` holds the outcome of every workspace tried in the run (as dicts).
    """

    def __init__(self, message: str, deliveries: Sequence[dict[str, Any]] = ()):
        super().__init__(message)
        self.deliveries = list(deliveries)


class SlackConnectionNotFound(LookupError):
    """The Slack webhook Connection a workspace names is not defined."""


@dataclass(frozen=True)
class WorkspaceAlertSettings:
    """What the alerts step needs from a workspace's registry entry."""

    workspace_id: str
    name: str
    dashboard_url: str = ""
    slack_connection: str | None = None
    slack_bot_connection: str | None = None
    slack_channel: str | None = None
    teams_connection: str | None = None
    email_connection: str | None = None
    email_to: tuple[str, ...] = ()
    suppress_days: int = 3
    worsen_margin: float = 0.1
    open_alerts: int | None = None  # set for each digest: the workspace's series still open (ads_elt.alert_states)
    chart_url: str | None = None  # set for each digest: its chart at a signed URL of the reporting service (api/)

    def channels(self) -> list[str]:
        """Channel ids this workspace's digests go to (empty: the task log)."""
        out = []
        if self.slack_connection:
            out.append(f"slack:{self.slack_connection}")
        if self.teams_connection:
            out.append(f"teams:{self.teams_connection}")
        if self.email_connection and self.email_to:
            out.append(f"email:{self.email_connection}")
        return out


@dataclass(frozen=True)
class Alert:
    alert_key: str
    workspace_id: str
    workspace_name: str
    platform: str
    account_id: str
    campaign_id: str
    campaign_name: str
    metric: str
    date_day: date
    currency: str
    value: float | None
    baseline_median: float | None
    baseline_mad: float | None
    robust_z: float | None
    history_days: int | None
    direction: str
    severity: str
    message: str
    dashboard_link: str | None = None
    entity_type: str = "campaign"
    source: str = "anomaly"
    signal: str = ""
    rule_id: str | None = None
    explanation: str = ""
    score: float | None = None
    threshold: float | None = None
    baseline_low: float | None = None
    baseline_high: float | None = None
    scoring_method: str | None = None

    @property
    def alert_id(self) -> str:
        """md5(alert_key): ops.alert_log.alert_id and marts.mart_alerts.alert_id."""
        return alert_states.default_alert_id(self.alert_key)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (dates as ISO strings)."""
        d = asdict(self)
        d["date_day"] = self.date_day.isoformat()
        d["alert_id"] = self.alert_id
        return d


@dataclass
class Delivery:
    """The outcome of one workspace's message in a run."""

    workspace_id: str
    channel: str
    alert_keys: list[str] = field(default_factory=list)
    status: str = "sent"  # sent | failed | nothing_to_send
    texts: list[str] = field(default_factory=list)
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "workspace_id": self.workspace_id,
            "channel": self.channel,
            "status": self.status,
            "alerts": len(self.alert_keys),
            "alert_keys": list(self.alert_keys),
            "text": "\n\n".join(self.texts),
            "error": self.error,
        }


def settings_from_registry(registry: Any) -> dict[str, WorkspaceAlertSettings]:
    """Alert settings per workspace id from a loaded registry (`ads_elt.registry.Registry`)."""
    return {
        ws.id: WorkspaceAlertSettings(
            workspace_id=ws.id,
            name=ws.name,
            dashboard_url=ws.dashboard_url or "",
            slack_connection=ws.slack_connection,
            slack_bot_connection=ws.alerting.slack_bot_connection,
            slack_channel=ws.alerting.slack_channel,
            teams_connection=ws.alerting.teams_connection,
            email_connection=ws.alerting.email_connection,
            email_to=ws.alerting.email_to,
            suppress_days=ws.alerting.suppress_days,
            worsen_margin=ws.alerting.worsen_margin,
        )
        for ws in registry.workspaces
    }


def planned_change_id(change: Any) -> str:
    """A stable id of a planned change: what it is, where and when (the same entry keeps its id)."""
    import hashlib

    parts = (change.kind, change.platform or "", change.campaign_id or "", change.start.isoformat(), change.end.isoformat())
    return f"{change.kind}-{change.start.isoformat()}-" + hashlib.md5("|".join(parts).encode()).hexdigest()[:8]  # noqa: S324


def mirror_workspace_settings(cur, registry: Any) -> None:
    """Write the registry's anomaly, rule, budget, link, attribution window settings and planned changes where dbt reads them.

    `ops.workspace_settings` (setting -> text value), `ops.campaign_budgets`
    and `ops.planned_changes` are replaced in full, in the caller's transaction.
    """
    cur.execute("delete from ops.workspace_settings")
    cur.execute("delete from ops.campaign_budgets")
    cur.execute("delete from ops.planned_changes")
    for ws in registry.workspaces:
        settings = ws.alerting.settings()
        if ws.dashboard_url:
            settings["dashboard_url"] = ws.dashboard_url
        if getattr(ws, "attribution_window_days", None) is not None:
            settings["attribution_window_days"] = str(ws.attribution_window_days)  # fct_attributed_orders
        for name, value in sorted(settings.items()):
            cur.execute(
                "insert into ops.workspace_settings (workspace_id, setting, value) values (%s, %s, %s)",
                (ws.id, name, value),
            )
        for c in ws.alerting.planned_changes:
            cur.execute(
                "insert into ops.planned_changes (workspace_id, change_id, kind, platform, campaign_id, start_date, "
                "end_date, settle_days, note) values (%s, %s, %s, %s, %s, %s, %s, %s, %s) on conflict do nothing",
                (ws.id, planned_change_id(c), c.kind, c.platform, c.campaign_id, c.start, c.end, c.settle_days, c.note),
            )
        for b in ws.alerting.campaign_budgets:
            cur.execute(
                "insert into ops.campaign_budgets (workspace_id, platform, campaign_id, monthly_budget) "
                "values (%s, %s, %s, %s) on conflict do nothing",
                (ws.id, b.platform, b.campaign_id, b.monthly),
            )


# --------------------------------------------------------------------------- formatting


def _number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = float(value)
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def _as_date(value: Any) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def format_money(amount: float | None, currency: str) -> str:
    """Money in major units: `$1,234.50`, `€12.00`, `¥1,200`, `1,234.50 SAR`."""
    if amount is None:
        return "n/a"
    code = (currency or "").upper()
    decimals = 2
    if code in ZERO_DECIMAL_CURRENCIES:
        decimals = 0
    elif code in THREE_DECIMAL_CURRENCIES:
        decimals = 3
    digits = f"{abs(amount):,.{decimals}f}"
    sign = "-" if amount < 0 and float(digits.replace(",", "")) != 0 else ""
    symbol = CURRENCY_SYMBOLS.get(code)
    if symbol:
        return f"{sign}{symbol}{digits}"
    return f"{sign}{digits} {code}".rstrip()


def format_metric(metric: str, value: float | None, currency: str) -> str:
    """A metric value the way a marketer reads it: money, a percentage or a multiple."""
    if value is None:
        return "n/a"
    if metric in MONEY_METRICS:
        return format_money(value, currency)
    if metric in PERCENT_METRICS:
        return f"{value * 100:.2f}%"
    if metric in MULTIPLE_METRICS:
        return f"{value:.2f}x"
    return f"{value:,.4g}"


def platform_label(platform: str) -> str:
    return PLATFORM_LABELS.get(platform, platform.replace("_", " ").title())


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric.upper())


def severity_for(robust_z: float | None, threshold: float = DEFAULT_THRESHOLD) -> str:
    """``critical`` when |z| >= CRITICAL_FACTOR x threshold, else ``warning``."""
    if robust_z is not None and abs(robust_z) >= CRITICAL_FACTOR * threshold:
        return "critical"
    return "warning"


def dashboard_link(
    template: str, *, workspace_id: str, platform: str, campaign_id: str, day: date
) -> str | None:
    """Fill the workspace's dashboard URL template; every value is URL-encoded."""
    if not template:
        return None
    values = {
        "workspace_id": quote(workspace_id, safe=""),
        "platform": quote(platform, safe=""),
        "campaign_id": quote(campaign_id, safe=""),
        "date": quote(day.isoformat(), safe=""),
    }
    try:
        return template.format(**values)
    except (KeyError, IndexError, ValueError) as exc:
        log.warning(
            "dashboard_url template for workspace %s is unusable (%s); alert sent without link",
            workspace_id,
            exc,
        )
        return None


def alert_key(
    workspace_id: str, platform: str, campaign_id: str, metric: str, day: date
) -> str:
    return f"{workspace_id}|{platform}|{campaign_id}|{metric}|{day.isoformat()}"


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --------------------------------------------------------------------------- building


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
        campaign_name = _one_line(row.get("campaign_name") or campaign_id, 150)
        metric = str(row.get("metric") or "")
        source = str(row.get("source") or "anomaly")
        signal = str(row.get("signal") or metric)
        day = _as_date(row["date_day"])
        currency = str(row.get("currency") or "")
        value = _number(row.get("value"))
        median = _number(row.get("baseline") if is_mart_alert else row.get("baseline_median"))
        z = _number(row.get("robust_z"))
        history = row.get("history_days")
        key = alert_key(ws_id, platform, campaign_id, signal, day)
        prefix = f"{settings.name} · {platform_label(platform)} · {campaign_name}"
        explanation = _one_line(row.get("explanation") or "", 400)
        if source == "anomaly":
            message = _anomaly_message(prefix, metric, value, median, z, currency, day)
        else:
            message = f"{prefix}: {explanation} on {day.isoformat()}"
        severity = str(row.get("severity") or severity_for(z, threshold))
        score = _number(row.get("score"))
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
                baseline_mad=_number(row.get("baseline_mad")),
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
                threshold=_number(row.get("threshold") if is_mart_alert else row.get("z_threshold")),
                baseline_low=_number(row.get("baseline_low")),
                baseline_high=_number(row.get("baseline_high")),
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


def record_and_select_new(
    conn,
    alerts: Sequence[Alert],
    settings: Mapping[str, WorkspaceAlertSettings] | None = None,
) -> list[Alert]:
    """Log alerts in `ops.alert_log`, suppress repeats; return those still to send.

    New rows are `pending`. A pending alert that was never delivered anywhere
    is held back (`suppressed`, with the series' state) when someone
    acknowledged its series or snoozed it past its date
    (`ads_elt.alert_states`), and suppressed when the same entity and signal
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
            if a.alert_key not in undelivered or a.source not in ("anomaly", "rule"):
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
                log.info("suppressed %s: %s was sent within %d day(s) and this is not worse", a.alert_key, prev_key, ws.suppress_days)
        cur.execute(
            "select alert_key from ops.alert_log where alert_key = any(%s) and status = 'pending'",
            ([a.alert_key for a in unique],),
        )
        pending = {r[0] for r in cur.fetchall()}
    conn.commit()
    return [a for a in unique if a.alert_key in pending]


def _last_sent(cur, a: Alert, suppress_days: int) -> tuple[str, float | None, str] | None:
    """The latest sent alert of the same entity and signal in the `suppress_days` before `a`'s date."""
    if suppress_days <= 0:
        return None
    cur.execute(
        "select alert_key, score, severity from ops.alert_log "
        "where workspace_id = %s and platform = %s and entity_id = %s and metric = %s and status = 'sent' "
        "and date_day < %s and date_day >= %s::date - %s order by date_day desc, sent_at desc limit 1",
        (a.workspace_id, a.platform, a.campaign_id, a.signal or a.metric, a.date_day, a.date_day, suppress_days),
    )
    row = cur.fetchone()
    return (row[0], row[1], row[2]) if row else None


def _lock_pending(conn, keys: list[str]) -> set[str]:
    with conn.cursor() as cur:
        cur.execute(
            "select alert_key from ops.alert_log where alert_key = any(%s) and status = 'pending' "
            "order by alert_key for update skip locked",
            (keys,),
        )
        return {r[0] for r in cur.fetchall()}


def _mark_sent(conn, keys: list[str], channel: str) -> None:
    with conn.cursor() as cur:
        cur.execute(
            "update ops.alert_log set status = 'sent', sent_at = now(), channel = %s "
            "where alert_key = any(%s) and status = 'pending'",
            (channel, keys),
        )


# --------------------------------------------------------------------------- messages


def _mrkdwn_escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn_link(url: str, label: str) -> str:
    safe_url = (
        url.replace("|", "%7C")
        .replace("<", "%3C")
        .replace(">", "%3E")
        .replace(" ", "%20")
    )
    return f"<{_mrkdwn_escape(safe_url)}|{_mrkdwn_escape(label)}>"


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _days_label(alerts: Sequence[Alert]) -> str:
    days = sorted({a.date_day for a in alerts})
    if not days:
        return ""
    return (
        days[0].isoformat()
        if len(days) == 1
        else f"{days[0].isoformat()} to {days[-1].isoformat()}"
    )


def _count_label(n: int) -> str:
    return f"{n} alert" if n == 1 else f"{n} alerts"


def _ordered(alerts: Sequence[Alert]) -> list[Alert]:
    """Critical first, then the largest deviations."""
    return sorted(
        alerts,
        key=lambda a: (
            a.severity != "critical",
            -(a.score if a.score is not None else abs(a.robust_z or 0.0)),
            a.platform,
            a.campaign_name,
            a.metric,
        ),
    )


def _chunks(
    alerts: Sequence[Alert], size: int = ALERTS_PER_MESSAGE
) -> list[list[Alert]]:
    return [list(alerts[i : i + size]) for i in range(0, len(alerts), size)] or [[]]


def _title(name: str, alerts: Sequence[Alert], part: int, parts: int) -> str:
    title = f"{name} · {_days_label(alerts)} · {_count_label(len(alerts))}"
    if parts > 1:
        title += f" (part {part}/{parts})"
    return title


def _alert_section_text(a: Alert) -> str:
    if a.source == "recommendation":
        moves = "\n".join(f"• {_mrkdwn_escape(m)}" for m in a.explanation.split("; "))
        return _truncate(f":moneybag: *{_mrkdwn_escape(a.campaign_name)}*\n{moves}", MAX_SECTION_CHARS)
    emoji = SEVERITY_EMOJI.get(a.severity, "")
    where = f"{platform_label(a.platform)}" + (
        f" · account {a.account_id}" if a.account_id and a.account_id != "all" else ""
    )
    if a.source == "rule":
        lines = [
            f"{emoji} *{_mrkdwn_escape(a.campaign_name)}* · {_mrkdwn_escape(where)}".strip(),
            f"*{_mrkdwn_escape(a.explanation)}* on {a.date_day.isoformat()}",
            f"rule `{_mrkdwn_escape(a.rule_id or a.signal)}` · {a.severity} · id `{alert_states.short_id(a.alert_id)}`",
        ]
        text = "\n".join(lines)
        if a.dashboard_link:
            with_link = f"{text} · {_mrkdwn_link(a.dashboard_link, 'Open dashboard')}"
            if len(with_link) <= MAX_SECTION_CHARS:
                return with_link
        return _truncate(text, MAX_SECTION_CHARS)
    value = format_metric(a.metric, a.value, a.currency)
    usual = format_metric(a.metric, a.baseline_median, a.currency)
    mad = format_metric(a.metric, a.baseline_mad, a.currency)
    direction = DIRECTION_WORDS.get(a.direction, a.direction)
    history = f" over {a.history_days} days" if a.history_days is not None else ""
    z = f"{a.robust_z:+.1f}" if a.robust_z is not None else "n/a"
    lines = [
        f"{emoji} *{_mrkdwn_escape(a.campaign_name)}* · {_mrkdwn_escape(where)}".strip(),
        f"*{metric_label(a.metric)} {_mrkdwn_escape(value)}* on {a.date_day.isoformat()}"
        + (f" ({direction})" if direction else "")
        + f", usually {_mrkdwn_escape(usual)} (median{history}, MAD {_mrkdwn_escape(mad)})",
        f"robust z *{z}* · {a.severity} · id `{alert_states.short_id(a.alert_id)}`",
    ]
    text = "\n".join(lines)
    if a.dashboard_link:
        with_link = f"{text} · {_mrkdwn_link(a.dashboard_link, 'Open dashboard')}"
        if len(with_link) <= MAX_SECTION_CHARS:
            return with_link
    return _truncate(text, MAX_SECTION_CHARS)


def open_line(open_count: int | None) -> str:
    """How many of the workspace's alerts are still open, and how to act on one."""
    if open_count is None:
        return ""
    return f"{_count_label(open_count)} open in this workspace (acknowledge one: python -m ads_elt.alerts ack ID)"


def build_slack_payload(
    settings: WorkspaceAlertSettings,
    alerts: Sequence[Alert],
    part: int = 1,
    parts: int = 1,
) -> dict:
    """The Block Kit message for one workspace (or one part of it when it has many alerts)."""
    title = _title(settings.name, alerts, part, parts)
    critical = sum(a.severity == "critical" for a in alerts)
    warning = sum(a.severity == "warning" for a in alerts)
    summary = f"*{critical}* critical · *{warning}* warning · from the daily anomaly scoring and alert rules"
    if settings.open_alerts is not None:
        summary += " · " + _mrkdwn_escape(open_line(settings.open_alerts))
    blocks: list[dict[str, Any]] = [
        {
            "type": "header",
            "text": {
                "type": "plain_text",
                "text": _truncate(title, MAX_HEADER_CHARS),
                "emoji": True,
            },
        },
        {
            "type": "context",
            "elements": [
                {"type": "mrkdwn", "text": _truncate(summary, MAX_CONTEXT_CHARS)}
            ],
        },
    ]
    for a in alerts:
        blocks.append(
            {
                "type": "section",
                "text": {"type": "mrkdwn", "text": _alert_section_text(a)},
            }
        )
    if settings.chart_url:  # webhook-only Slack cannot upload a file: Slack fetches the chart from the service
        blocks.append({"type": "image", "image_url": settings.chart_url, "alt_text": _truncate(f"Chart: {title}", 2000)})
    return {"text": _truncate(title, 3000), "blocks": blocks}


def build_text(
    settings: WorkspaceAlertSettings,
    alerts: Sequence[Alert],
    part: int = 1,
    parts: int = 1,
) -> str:
    """The plain-text form of a workspace's message (task log, summaries)."""
    lines = [_title(settings.name, alerts, part, parts)]
    for a in alerts:
        line = f"- [{a.severity}] {a.message} (id {alert_states.short_id(a.alert_id)})"
        if a.dashboard_link:
            line += f" {a.dashboard_link}"
        lines.append(line)
    if settings.open_alerts is not None:
        lines.append(open_line(settings.open_alerts))
    return "\n".join(lines)


# --------------------------------------------------------------------------- delivery

_URL_RE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*://[^\s'\"<>|]+")


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """Remove URLs and the given secret strings from text meant for logs or errors."""
    out = str(text)
    for s in sorted({s for s in secrets if s and len(s) >= 4}, key=len, reverse=True):
        out = out.replace(s, "<redacted>")
    return _URL_RE.sub("<redacted-url>", out)


class _RedactUrlsFilter(logging.Filter):
    """The Slack client logs the webhook URL (debug) and retried URLs (info): drop them."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed record: keep only its template
            message = str(record.msg)
        record.msg = redact(message)
        record.args = None
        return True


# The logger handed to the Slack client, so its records pass through the filter.
slack_client_log = logging.getLogger(f"{__name__}.slack_client")
slack_client_log.addFilter(_RedactUrlsFilter())


def send_slack_webhook(connection_id: str, payload: dict) -> None:
    """Post a payload through the Slack provider's webhook hook.

    Raises SlackConnectionNotFound when the Connection is not defined and
    AlertDeliveryError (with the URL and token removed) when the post fails.
    """
    from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        connection = BaseHook.get_connection(connection_id)
    except AirflowNotFoundException:
        raise SlackConnectionNotFound(connection_id) from None
    secrets = [connection.password or "", (connection.password or "").strip()]
    try:
        hook = SlackWebhookHook(
            slack_webhook_conn_id=connection_id, timeout=30, logger=slack_client_log
        )
        secrets.append(hook.client.url)
        hook.send_dict(payload)
    except Exception as exc:  # noqa: BLE001 - any failure is re-raised, with the secret removed
        reason = redact(f"{type(exc).__name__}: {exc}", secrets)
        raise AlertDeliveryError(
            f"Slack webhook post via Connection {connection_id!r} failed: {reason}"
        ) from None


SlackSender = Callable[[str, dict], None]
# A channel sender: (connection id, workspace settings, alerts of one message, part, parts, chart path or None).
ChannelSender = Callable[[str, WorkspaceAlertSettings, Sequence[Alert], int, int, Any], None]


def _default_senders() -> dict[str, ChannelSender]:
    from ads_elt import notify_email, notify_teams

    return {"teams": notify_teams.send, "email": notify_email.send}


def deliver(
    conn,
    alerts: Sequence[Alert],
    settings: Mapping[str, WorkspaceAlertSettings],
    send_slack: SlackSender | None = None,
    *,
    senders: Mapping[str, ChannelSender] | None = None,
    upload_chart: Callable[..., None] | None = None,
    chart_for: Callable[[WorkspaceAlertSettings, Sequence[Alert], int], Any] | None = None,
    reporting: links.ReportingService | None = None,
) -> list[dict[str, Any]]:
    """Send one digest per workspace (and part) to each of its channels; mark alerts sent.

    Only alerts still `pending` in `ops.alert_log` are sent (pass what
    `record_and_select_new` returned). Slack gets Block Kit through
    `send_slack(connection_id, payload)` (default: the provider's webhook
    hook), Teams and email through `senders` (default: `ads_elt.notify_*`).
    A workspace without channels gets the text in the task log. A channel
    that fails leaves the alerts pending for it (the channels that succeeded
    are recorded and not repeated); the other workspaces are still tried,
    then AlertDeliveryError is raised. With `reporting` (the reporting service),
    each digest's chart also travels by signed URL. Returns one JSON-safe dict per message.
    """
    send = send_slack or send_slack_webhook
    channel_senders = {**_default_senders(), **(senders or {})}
    by_workspace: dict[str, list[Alert]] = defaultdict(list)
    for a in alerts:
        by_workspace[a.workspace_id].append(a)

    deliveries: list[Delivery] = []
    for ws_id in sorted(by_workspace):
        ws = settings.get(ws_id) or WorkspaceAlertSettings(
            workspace_id=ws_id, name=ws_id
        )
        group = _ordered(by_workspace[ws_id])
        parts = _chunks(group)
        for i, chunk in enumerate(parts, start=1):
            delivery = _deliver_part(
                conn, ws, chunk, i, len(parts), send, channel_senders, upload_chart, chart_for, reporting
            )
            deliveries.append(delivery)
            if delivery.status == "failed":
                break  # the rest of this workspace stays pending for the next attempt

    failed = [d for d in deliveries if d.status == "failed"]
    results = [d.to_dict() for d in deliveries]
    if failed:
        detail = "; ".join(f"{d.workspace_id}: {d.error}" for d in failed)
        raise AlertDeliveryError(
            f"alerts for {len(failed)} workspace message(s) were not delivered and stay pending: {detail}",
            results,
        )
    return results


def _delivered(conn, keys: list[str]) -> dict[str, set[str]]:
    with conn.cursor() as cur:
        cur.execute("select alert_key, channel from ops.alert_deliveries where alert_key = any(%s)", (keys,))
        out: dict[str, set[str]] = defaultdict(set)
        for key, channel in cur.fetchall():
            out[key].add(channel)
    return out


def _record_delivery(conn, keys: list[str], channel: str) -> None:
    from psycopg2.extras import execute_values

    with conn.cursor() as cur:
        execute_values(
            cur,
            "insert into ops.alert_deliveries (alert_key, channel) values %s on conflict do nothing",
            [(k, channel) for k in keys],
        )


def _send_to_channel(
    channel: str,
    ws: WorkspaceAlertSettings,
    alerts: Sequence[Alert],
    part: int,
    parts: int,
    chart: Any,
    send_slack: SlackSender,
    senders: Mapping[str, ChannelSender],
    upload_chart: Callable[..., None] | None,
) -> None:
    kind, _, conn_id = channel.partition(":")
    if kind == "slack":
        send_slack(conn_id, build_slack_payload(ws, alerts, part, parts))
        if chart is not None and ws.slack_bot_connection and ws.slack_channel:
            from ads_elt.notify_slack_files import upload_file

            try:
                (upload_chart or upload_file)(
                    ws.slack_bot_connection,
                    ws.slack_channel,
                    chart,
                    title=_title(ws.name, alerts, part, parts),
                )
            except Exception as exc:  # noqa: BLE001 - the digest went out; the chart stays on disk
                log.warning("chart for workspace %s not uploaded (saved at %s): %s", ws.workspace_id, chart, redact(str(exc)))
        return
    senders[kind](conn_id, ws, alerts, part, parts, chart)


def _deliver_part(
    conn,
    ws: WorkspaceAlertSettings,
    chunk: list[Alert],
    part: int,
    parts: int,
    send: SlackSender,
    senders: Mapping[str, ChannelSender],
    upload_chart: Callable[..., None] | None,
    chart_for: Callable[[WorkspaceAlertSettings, Sequence[Alert], int], Any] | None,
    reporting: links.ReportingService | None = None,
) -> Delivery:
    locked = _lock_pending(conn, [a.alert_key for a in chunk])
    to_send = [a for a in chunk if a.alert_key in locked]
    channels = ws.channels()
    channel_label = ",".join(channels) or LOG_CHANNEL
    if not to_send:
        conn.rollback()
        return Delivery(workspace_id=ws.workspace_id, channel=channel_label, status="nothing_to_send")
    keys = [a.alert_key for a in to_send]
    with conn.cursor() as cur:
        opened = alert_states.open_counts(cur, [ws.workspace_id], including=keys).get(ws.workspace_id, 0)
    ws = replace(ws, open_alerts=opened)
    text = build_text(ws, to_send, part, parts)
    chart = None
    with conn.cursor() as cur:
        cur.execute("savepoint digest_chart")  # a failed chart query must not undo the locks above
        try:
            chart = (chart_for or _chart_for(conn))(ws, to_send, part)
            cur.execute("release savepoint digest_chart")
        except Exception as exc:  # noqa: BLE001 - a chart is a nice-to-have; the alert still goes out
            cur.execute("rollback to savepoint digest_chart")
            log.warning("no chart for workspace %s: %s", ws.workspace_id, redact(f"{type(exc).__name__}: {exc}"))
    if chart is not None:
        with conn.cursor() as cur:
            cur.execute("update ops.alert_log set chart_path = %s where alert_key = any(%s)", (str(chart), keys))
        ws = replace(ws, chart_url=chart_link(reporting, ws.workspace_id, to_send[0].alert_id))
    delivered = _delivered(conn, keys)
    used: list[str] = []
    errors: list[str] = []
    for channel in channels:
        todo = [a for a in to_send if channel not in delivered.get(a.alert_key, set())]
        if not todo:
            used.append(channel)
            continue
        try:
            _send_to_channel(channel, ws, todo, part, parts, chart, send, senders, upload_chart)
        except SlackConnectionNotFound:
            log.warning(
                "Slack Connection %r for workspace %s is not defined: writing its alerts to the task log",
                ws.slack_connection,
                ws.workspace_id,
            )
            continue
        except Exception as exc:  # noqa: BLE001 - one channel's failure must not stop the others
            reason = exc.args[0] if isinstance(exc, AlertDeliveryError) and exc.args else f"{type(exc).__name__}: {exc}"
            errors.append(f"{channel}: {redact(reason)}")
            continue
        _record_delivery(conn, [a.alert_key for a in todo], channel)
        used.append(channel)
    if not used and not errors:
        log.info("Alerts for workspace %s:\n%s", ws.workspace_id, links.without_signatures(text))
        _record_delivery(conn, keys, LOG_CHANNEL)
        used.append(LOG_CHANNEL)
    channel_label = ",".join(used) or channel_label
    if errors:
        conn.commit()  # keep what did reach its channel; the rest stays pending
        reason = "; ".join(errors)
        log.error("alerts for workspace %s not delivered (left pending): %s", ws.workspace_id, reason)
        return Delivery(ws.workspace_id, channel_label, keys, status="failed", texts=[links.without_signatures(text)], error=reason)
    _mark_sent(conn, keys, channel_label)
    conn.commit()
    log.info("delivered %d alert(s) for workspace %s via %s", len(keys), ws.workspace_id, channel_label)
    return Delivery(ws.workspace_id, channel_label, keys, status="sent", texts=[links.without_signatures(text)])


def chart_link(service: links.ReportingService | None, workspace_id: str, alert_id: str) -> str | None:
    """The digest chart at the reporting service (`/charts/<alert id>.png`), signed; None when the service has no URL."""
    if service is None or not service.url:
        return None
    return service.sign(f"{service.url}/charts/{alert_id}.png", workspace_id)


def signed_dashboard_links(alerts: Sequence[Alert], service: links.ReportingService | None) -> list[Alert]:
    """Each alert's dashboard link signed for its workspace (`ads_elt.links`), when the reporting service's key is set."""
    if service is None:
        return list(alerts)
    return [replace(a, dashboard_link=service.sign(a.dashboard_link, a.workspace_id)) if a.dashboard_link else a for a in alerts]


def _chart_for(conn) -> Callable[[WorkspaceAlertSettings, Sequence[Alert], int], Any]:
    def render(ws: WorkspaceAlertSettings, alerts: Sequence[Alert], part: int):
        from ads_elt import charts

        return charts.digest_chart(conn, ws, alerts, part)

    return render


# --------------------------------------------------------------------------- the step


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


def fetch_alerts(conn, run_date: date) -> list[dict[str, Any]]:
    """The rows of `marts.mart_alerts` for one date."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass(%s)", (ALERT_RELATION,))
        if cur.fetchone()[0] is None:
            conn.rollback()
            raise AlertSourceMissingError(
                f"{ALERT_RELATION} does not exist in the warehouse: run the dbt build "
                "(it creates the alerts mart) before the alerts step"
            )
        cur.execute(
            f"select {', '.join(ALERT_COLUMNS)} from {ALERT_RELATION} where date_day = %s "
            "order by workspace_id, platform, campaign_id, signal",
            (run_date,),
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
            "select workspace_id, platform, campaign_id, campaign_name, currency, recommendation, current_daily_budget, "
            f"recommended_daily_budget, reason from {RECOMMENDATION_RELATION} "
            "where date_day = %s and recommendation in ('increase', 'decrease') "
            "order by workspace_id, abs(change_amount_reporting) desc, campaign_id",
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
            f"{_one_line(r['campaign_name'] or r['campaign_id'], 80)} ({platform_label(r['platform'])}): {r['recommendation']} "
            f"daily budget {format_money(_number(r['current_daily_budget']), r['currency'])} -> "
            f"{format_money(_number(r['recommended_daily_budget']), r['currency'])}"
            for r in rows[:MAX_RECOMMENDATIONS]
        ]
        more = f"; {len(rows) - MAX_RECOMMENDATIONS} more in marts.mart_budget_recommendations" if len(rows) > MAX_RECOMMENDATIONS else ""
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


def run_alerts(
    conn,
    run_date: date | str,
    settings_by_workspace: Mapping[str, WorkspaceAlertSettings],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    send_slack: SlackSender | None = None,
    senders: Mapping[str, ChannelSender] | None = None,
    upload_chart: Callable[..., None] | None = None,
    chart_for: Callable[[WorkspaceAlertSettings, Sequence[Alert], int], Any] | None = None,
) -> dict[str, Any]:
    """The alerts step for one run date: select, build, record, deliver.

    Returns a JSON-safe summary (for XCom): counts per workspace and the
    message texts. Raises AlertSourceMissingError when the mart is missing and
    AlertDeliveryError when a message could not be delivered.
    """
    day = _as_date(run_date)
    rows = fetch_alerts(conn, day)
    planned = [r for r in rows if r.get("planned_change_id")]
    for r in planned:
        log.info("not sent %s: explained by the planned change %s", r["alert_key"], r["planned_change_id"])
    alerts = build_alerts([r for r in rows if not r.get("planned_change_id")], settings_by_workspace, threshold=threshold)
    reporting = links.reporting_service()  # read once per run: signs every link and the charts' URLs
    alerts = signed_dashboard_links(alerts, reporting)
    if day.weekday() == WEEKLY_DIGEST_WEEKDAY:
        alerts += recommendation_alerts(fetch_recommendations(conn, day), day, settings_by_workspace)
    with conn.cursor() as cur:
        fired = [(str(r["workspace_id"]), str(r["platform"]), str(r["campaign_id"]), str(r["signal"])) for r in rows]
        resolved = alert_states.resolve_absent(cur, day, fired)
    if resolved:
        log.info("%d alert(s) resolved: their condition did not fire on %s", resolved, day)
    to_send = record_and_select_new(conn, alerts, settings_by_workspace)
    deliveries = deliver(
        conn, to_send, settings_by_workspace, send_slack=send_slack, senders=senders, upload_chart=upload_chart,
        chart_for=chart_for, reporting=reporting,
    )  # fmt: skip

    workspaces: dict[str, dict[str, Any]] = {}
    for a in alerts:
        w = workspaces.setdefault(
            a.workspace_id,
            {"flagged": 0, "critical": 0, "to_send": 0, "sent": 0, "channels": []},
        )
        w["flagged"] += 1
        w["critical"] += a.severity == "critical"
    for a in to_send:
        workspaces[a.workspace_id]["to_send"] += 1
    messages: dict[str, list[str]] = defaultdict(list)
    for d in deliveries:
        w = workspaces.setdefault(
            d["workspace_id"],
            {"flagged": 0, "critical": 0, "to_send": 0, "sent": 0, "channels": []},
        )
        if d["status"] == "sent":
            w["sent"] += d["alerts"]
            if d["channel"] not in w["channels"]:
                w["channels"].append(d["channel"])
            messages[d["workspace_id"]].append(d["text"])
    summary = {
        "run_date": day.isoformat(),
        "flagged": len(alerts),
        "planned": len(planned),
        "resolved": resolved,
        "to_send": len(to_send),
        "sent": sum(w["sent"] for w in workspaces.values()),
        "workspaces": workspaces,
        "messages": {ws: "\n\n".join(texts) for ws, texts in messages.items()},
    }
    log.info(
        "alerts for %s: %d flagged, %d to send, %d sent",
        summary["run_date"],
        summary["flagged"],
        summary["to_send"],
        summary["sent"],
    )
    return summary


if __name__ == "__main__":  # python -m ads_elt.alerts ack|snooze|resolve|list (see ads_elt.alert_states)
    raise SystemExit(alert_states.main())
