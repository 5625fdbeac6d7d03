"""Anomalies become alerts: built, deduplicated in `ops.alert_log`, delivered.

The alerts step runs after dbt. It reads the points `marts.mart_anomalies`
flags for the run date, turns each into an `Alert` with a one-line message a
marketer can read and a link to the pre-filtered dashboard, records it in
`ops.alert_log`, and posts one message per workspace to Slack (or writes it to
the task log when the workspace has no Slack connection).

Deduplication. `alert_key` = ``workspace|platform|campaign|metric|date`` is
the primary key of `ops.alert_log`. A row is inserted as `pending` the first
time its point is flagged and is set to `sent` only after the message that
carries it was delivered. So a rerun of the same date sends nothing new, and
an alert whose send failed (or whose task crashed between logging and
sending) stays `pending` and goes out on the next attempt. Delivery is
at-least-once: a crash after Slack accepted a message but before the row was
marked repeats that one message. Rows being delivered are locked
(``for update skip locked``), so two overlapping runs never both send them.

Severity. ``critical`` when ``|robust z| >= 2 * threshold`` (the anomaly
threshold of the registry, 3.5 by default, so |z| >= 7), otherwise
``warning``. The mart decides what is anomalous; severity only ranks it.

Slack. A workspace's `alerts.slack_connection` names an Airflow Connection of
type ``slackwebhook`` whose password holds the incoming-webhook URL (or only
the token ``T.../B.../...``, with the host as base URL). If that Connection is
not defined, the message goes to the task log instead. The webhook URL is a
secret: it never appears in messages, log records or exceptions raised here.
"""

from __future__ import annotations

import logging
import math
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

log = logging.getLogger(__name__)

DEFAULT_THRESHOLD = 3.5
CRITICAL_FACTOR = 2.0
ANOMALY_RELATION = "marts.mart_anomalies"
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
}
METRIC_LABELS = {
    "spend": "Spend",
    "ctr": "CTR",
    "cvr": "CVR",
    "cpa": "CPA",
    "roas": "ROAS",
}
MONEY_METRICS = {"spend", "cpa"}
PERCENT_METRICS = {"ctr", "cvr"}
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

ANOMALY_COLUMNS = (
    "anomaly_id",
    "date_day",
    "workspace_id",
    "platform",
    "account_id",
    "campaign_id",
    "campaign_name",
    "currency",
    "metric",
    "value",
    "baseline_median",
    "baseline_mad",
    "robust_z",
    "history_days",
    "direction",
    "is_anomaly",
)


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

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (dates as ISO strings)."""
        d = asdict(self)
        d["date_day"] = self.date_day.isoformat()
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
        )
        for ws in registry.workspaces
    }


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


def build_alerts(
    anomaly_rows: Iterable[Mapping[str, Any]],
    workspaces: Mapping[str, WorkspaceAlertSettings],
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[Alert]:
    """One Alert per flagged (`is_anomaly`) row of `marts.mart_anomalies`.

    Rows of a workspace missing from `workspaces` still produce alerts (named
    by the workspace id, without a link, delivered to the task log).
    """
    alerts: dict[str, Alert] = {}
    unknown: set[str] = set()
    for row in anomaly_rows:
        if not row.get("is_anomaly"):
            continue
        ws_id = str(row["workspace_id"])
        settings = workspaces.get(ws_id)
        if settings is None:
            unknown.add(ws_id)
            settings = WorkspaceAlertSettings(workspace_id=ws_id, name=ws_id)
        platform = str(row["platform"])
        campaign_id = str(row["campaign_id"])
        campaign_name = _one_line(row.get("campaign_name") or campaign_id, 150)
        metric = str(row["metric"])
        day = _as_date(row["date_day"])
        currency = str(row.get("currency") or "")
        value = _number(row.get("value"))
        median = _number(row.get("baseline_median"))
        z = _number(row.get("robust_z"))
        history = row.get("history_days")
        key = alert_key(ws_id, platform, campaign_id, metric, day)
        z_text = f" (robust z {z:+.1f})" if z is not None else ""
        message = (
            f"{settings.name} · {platform_label(platform)} · {campaign_name}: "
            f"{metric_label(metric)} {format_metric(metric, value, currency)} on {day.isoformat()}, "
            f"usually {format_metric(metric, median, currency)}{z_text}"
        )
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
                severity=severity_for(z, threshold),
                message=message,
                dashboard_link=dashboard_link(
                    settings.dashboard_url,
                    workspace_id=ws_id,
                    platform=platform,
                    campaign_id=campaign_id,
                    day=day,
                ),
            ),
        )
    for ws_id in sorted(unknown):
        log.warning(
            "anomalies for workspace %s, which is not in the registry: alerting to the task log",
            ws_id,
        )
    return list(alerts.values())


# --------------------------------------------------------------------------- alert log


def record_and_select_new(conn, alerts: Sequence[Alert]) -> list[Alert]:
    """Log alerts in `ops.alert_log`; return those not yet sent (new or still pending).

    Commits, so the log survives a crash before delivery.
    """
    first: dict[str, Alert] = {}
    for a in alerts:
        first.setdefault(a.alert_key, a)
    unique = list(first.values())
    if not unique:
        return []
    from psycopg2.extras import execute_values

    with conn.cursor() as cur:
        execute_values(
            cur,
            "insert into ops.alert_log (alert_key, workspace_id, platform, entity_id, metric, date_day, severity, message) "
            "values %s on conflict (alert_key) do nothing",
            [
                (
                    a.alert_key,
                    a.workspace_id,
                    a.platform,
                    a.campaign_id,
                    a.metric,
                    a.date_day,
                    a.severity,
                    a.message,
                )
                for a in unique
            ],
        )
        cur.execute(
            "select alert_key from ops.alert_log where alert_key = any(%s) and status = 'pending'",
            ([a.alert_key for a in unique],),
        )
        pending = {r[0] for r in cur.fetchall()}
    conn.commit()
    return [a for a in unique if a.alert_key in pending]


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
    return f"{n} anomaly" if n == 1 else f"{n} anomalies"


def _ordered(alerts: Sequence[Alert]) -> list[Alert]:
    """Critical first, then the largest deviations."""
    return sorted(
        alerts,
        key=lambda a: (
            a.severity != "critical",
            -abs(a.robust_z or 0.0),
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
    emoji = SEVERITY_EMOJI.get(a.severity, "")
    where = f"{platform_label(a.platform)}" + (
        f" · account {a.account_id}" if a.account_id else ""
    )
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
        f"robust z *{z}* · {a.severity}",
    ]
    text = "\n".join(lines)
    if a.dashboard_link:
        with_link = f"{text} · {_mrkdwn_link(a.dashboard_link, 'Open dashboard')}"
        if len(with_link) <= MAX_SECTION_CHARS:
            return with_link
    return _truncate(text, MAX_SECTION_CHARS)


def build_slack_payload(
    settings: WorkspaceAlertSettings,
    alerts: Sequence[Alert],
    part: int = 1,
    parts: int = 1,
) -> dict:
    """The Block Kit message for one workspace (or one part of it when it has many alerts)."""
    title = _title(settings.name, alerts, part, parts)
    critical = sum(a.severity == "critical" for a in alerts)
    warning = len(alerts) - critical
    summary = f"*{critical}* critical · *{warning}* warning · flagged by the daily anomaly scoring"
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
        line = f"- [{a.severity}] {a.message}"
        if a.dashboard_link:
            line += f" {a.dashboard_link}"
        lines.append(line)
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


def deliver(
    conn,
    alerts: Sequence[Alert],
    settings: Mapping[str, WorkspaceAlertSettings],
    send_slack: SlackSender | None = None,
) -> list[dict[str, Any]]:
    """Send one message per workspace and mark its alerts sent.

    Only alerts still `pending` in `ops.alert_log` are sent (pass what
    `record_and_select_new` returned). Workspaces with a Slack connection get a
    Block Kit message through `send_slack(connection_id, payload)` (default:
    the Slack provider's webhook hook); others get the text in the task log.
    A failed workspace leaves its alerts pending; the others are still tried,
    then AlertDeliveryError is raised. Returns one JSON-safe dict per message.
    """
    send = send_slack or send_slack_webhook
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
            delivery = _deliver_part(conn, ws, chunk, i, len(parts), send)
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


def _deliver_part(
    conn,
    ws: WorkspaceAlertSettings,
    chunk: list[Alert],
    part: int,
    parts: int,
    send: SlackSender,
) -> Delivery:
    locked = _lock_pending(conn, [a.alert_key for a in chunk])
    to_send = [a for a in chunk if a.alert_key in locked]
    channel = f"slack:{ws.slack_connection}" if ws.slack_connection else LOG_CHANNEL
    if not to_send:
        conn.rollback()
        return Delivery(
            workspace_id=ws.workspace_id, channel=channel, status="nothing_to_send"
        )
    text = build_text(ws, to_send, part, parts)
    keys = [a.alert_key for a in to_send]
    try:
        if ws.slack_connection:
            try:
                send(ws.slack_connection, build_slack_payload(ws, to_send, part, parts))
            except SlackConnectionNotFound:
                log.warning(
                    "Slack Connection %r for workspace %s is not defined: writing its alerts to the task log",
                    ws.slack_connection,
                    ws.workspace_id,
                )
                channel = LOG_CHANNEL
        if channel == LOG_CHANNEL:
            log.info("Alerts for workspace %s:\n%s", ws.workspace_id, text)
        _mark_sent(conn, keys, channel)
        conn.commit()
    except Exception as exc:  # noqa: BLE001 - one workspace's failure must not stop the others
        conn.rollback()
        reason = (
            exc.args[0]
            if isinstance(exc, AlertDeliveryError) and exc.args
            else f"{type(exc).__name__}: {exc}"
        )
        reason = redact(reason)
        log.error(
            "alerts for workspace %s not delivered via %s (left pending): %s",
            ws.workspace_id,
            channel,
            reason,
        )
        return Delivery(
            ws.workspace_id, channel, keys, status="failed", texts=[text], error=reason
        )
    log.info(
        "delivered %d alert(s) for workspace %s via %s",
        len(keys),
        ws.workspace_id,
        channel,
    )
    return Delivery(ws.workspace_id, channel, keys, status="sent", texts=[text])


# --------------------------------------------------------------------------- the step


def fetch_flagged_anomalies(conn, run_date: date) -> list[dict[str, Any]]:
    """Flagged rows of `marts.mart_anomalies` for one date."""
    with conn.cursor() as cur:
        cur.execute("select to_regclass(%s)", (ANOMALY_RELATION,))
        if cur.fetchone()[0] is None:
            conn.rollback()
            raise AlertSourceMissingError(
                f"{ANOMALY_RELATION} does not exist in the warehouse: run the dbt build "
                "(it creates the anomalies mart) before the alerts step"
            )
        cur.execute(
            f"select {', '.join(ANOMALY_COLUMNS)} from {ANOMALY_RELATION} "
            "where date_day = %s and is_anomaly "
            "order by workspace_id, platform, campaign_id, metric",
            (run_date,),
        )
        names = [d[0] for d in cur.description]
        rows = [dict(zip(names, r, strict=False)) for r in cur.fetchall()]
    conn.commit()
    return rows


def run_alerts(
    conn,
    run_date: date | str,
    settings_by_workspace: Mapping[str, WorkspaceAlertSettings],
    *,
    threshold: float = DEFAULT_THRESHOLD,
    send_slack: SlackSender | None = None,
) -> dict[str, Any]:
    """The alerts step for one run date: select, build, record, deliver.

    Returns a JSON-safe summary (for XCom): counts per workspace and the
    message texts. Raises AlertSourceMissingError when the mart is missing and
    AlertDeliveryError when a message could not be delivered.
    """
    day = _as_date(run_date)
    rows = fetch_flagged_anomalies(conn, day)
    alerts = build_alerts(rows, settings_by_workspace, threshold=threshold)
    to_send = record_and_select_new(conn, alerts)
    deliveries = deliver(conn, to_send, settings_by_workspace, send_slack=send_slack)

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
