"""How an alert reads: numbers, money and labels, the Slack Block Kit digest, the plain text, and redaction of URLs and secrets."""

from __future__ import annotations

import logging
import math
import re
from collections.abc import Iterable, Sequence
from datetime import date
from decimal import Decimal
from typing import Any
from urllib.parse import quote

from ads_elt.alerts import states as alert_states
from ads_elt.alerts.model import CRITICAL_FACTOR, DEFAULT_THRESHOLD, Alert, WorkspaceAlertSettings

log = logging.getLogger("ads_elt.alerts")

MAX_BLOCKS = 50
MAX_HEADER_CHARS = 150
MAX_SECTION_CHARS = 3000
MAX_CONTEXT_CHARS = 3000
# Alerts per Slack message: header + context + one section each stays far
# below MAX_BLOCKS. A workspace with more alerts in one run gets numbered parts.
ALERTS_PER_MESSAGE = 40

# Labels of what is not a platform; a platform's label is its spec's (adapters.PLATFORMS).
PLATFORM_LABELS = {"all": "All platforms"}
METRIC_LABELS = {
    "spend": "Spend",
    "ctr": "CTR",
    "cvr": "CVR",
    "cpa": "CPA",
    "roas": "ROAS",
    "acos": "ACOS",
    "conversion_value": "Conversion value",
}
MONEY_METRICS = {"spend", "cpa", "conversion_value"}
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


def number(value: Any) -> float | None:
    if value is None:
        return None
    if isinstance(value, Decimal):
        value = float(value)
    try:
        f = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) or math.isinf(f) else f


def as_date(value: Any) -> date:
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
    from adapters import PLATFORMS

    spec = PLATFORMS.get(platform)
    if spec is not None:
        return spec.label
    return PLATFORM_LABELS.get(platform, platform.replace("_", " ").title())


def metric_label(metric: str) -> str:
    return METRIC_LABELS.get(metric, metric.upper())


def severity_for(robust_z: float | None, threshold: float = DEFAULT_THRESHOLD) -> str:
    """``critical`` when |z| >= CRITICAL_FACTOR x threshold, else ``warning``."""
    if robust_z is not None and abs(robust_z) >= CRITICAL_FACTOR * threshold:
        return "critical"
    return "warning"


def dashboard_link(template: str, *, workspace_id: str, platform: str, campaign_id: str, day: date) -> str | None:
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


def alert_key(workspace_id: str, platform: str, campaign_id: str, metric: str, day: date) -> str:
    return f"{workspace_id}|{platform}|{campaign_id}|{metric}|{day.isoformat()}"


def one_line(text: str, limit: int = 200) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _mrkdwn_escape(text: str) -> str:
    return str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _mrkdwn_link(url: str, label: str) -> str:
    safe_url = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace(" ", "%20")
    return f"<{_mrkdwn_escape(safe_url)}|{_mrkdwn_escape(label)}>"


def _truncate(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _days_label(alerts: Sequence[Alert]) -> str:
    days = sorted({a.date_day for a in alerts})
    if not days:
        return ""
    return days[0].isoformat() if len(days) == 1 else f"{days[0].isoformat()} to {days[-1].isoformat()}"


def _count_label(n: int) -> str:
    return f"{n} alert" if n == 1 else f"{n} alerts"


def ordered(alerts: Sequence[Alert]) -> list[Alert]:
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


def chunks(alerts: Sequence[Alert], size: int = ALERTS_PER_MESSAGE) -> list[list[Alert]]:
    return [list(alerts[i : i + size]) for i in range(0, len(alerts), size)] or [[]]


def digest_title(name: str, alerts: Sequence[Alert], part: int, parts: int) -> str:
    title = f"{name} · {_days_label(alerts)} · {_count_label(len(alerts))}"
    if parts > 1:
        title += f" (part {part}/{parts})"
    return title


def _alert_section_text(a: Alert) -> str:
    if a.source == "recommendation":
        moves = "\n".join(f"• {_mrkdwn_escape(m)}" for m in a.explanation.split("; "))
        return _truncate(f":moneybag: *{_mrkdwn_escape(a.campaign_name)}*\n{moves}", MAX_SECTION_CHARS)
    emoji = SEVERITY_EMOJI.get(a.severity, "")
    where = f"{platform_label(a.platform)}" + (f" · account {a.account_id}" if a.account_id and a.account_id != "all" else "")
    if a.source == "rule":
        lines = [
            f"{emoji} *{_mrkdwn_escape(a.campaign_name)}* · {_mrkdwn_escape(where)}".strip(),
            f"*{_mrkdwn_escape(a.explanation)}* on {a.date_day.isoformat()}",
            f"rule `{_mrkdwn_escape(a.rule_id or a.signal)}` · {a.severity} · id `{alert_states.short_id(a.alert_id)}`",
        ]
        return _with_dashboard_link("\n".join(lines), a.dashboard_link)
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
    return _with_dashboard_link("\n".join(lines), a.dashboard_link)


def _with_dashboard_link(text: str, link: str | None) -> str:
    """A section's text with its "Open dashboard" link when both fit in a section, else the text alone, cut to fit."""
    if link:
        with_link = f"{text} · {_mrkdwn_link(link, 'Open dashboard')}"
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
    title = digest_title(settings.name, alerts, part, parts)
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
            "elements": [{"type": "mrkdwn", "text": _truncate(summary, MAX_CONTEXT_CHARS)}],
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
    lines = [digest_title(settings.name, alerts, part, parts)]
    for a in alerts:
        line = f"- [{a.severity}] {a.message} (id {alert_states.short_id(a.alert_id)})"
        if a.dashboard_link:
            line += f" {a.dashboard_link}"
        lines.append(line)
    if settings.open_alerts is not None:
        lines.append(open_line(settings.open_alerts))
    return "\n".join(lines)


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
slack_client_log = logging.getLogger("ads_elt.alerts.slack_client")
slack_client_log.addFilter(_RedactUrlsFilter())
