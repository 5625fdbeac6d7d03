"""Microsoft Teams: one Adaptive Card per workspace digest, posted to an incoming webhook.

The workspace's `alerts.teams_connection` names an Airflow Connection whose
password holds the webhook URL (a Teams "Workflows" webhook or a legacy
incoming webhook); if the password is empty the host is used as the URL. The
URL is a secret: it never appears in messages, logs or errors raised here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ads_elt.alerts.formatting import digest_title, format_metric, metric_label, open_line, platform_label, redact
from ads_elt.alerts.model import Alert, AlertDeliveryError, WorkspaceAlertSettings
from ads_elt.alerts.states import short_id

ADAPTIVE_CARD_SCHEMA = "http://adaptivecards.io/schemas/adaptive-card.json"
MAX_ACTIONS = 6


def _alert_items(a: Alert) -> list[dict[str, Any]]:
    where = platform_label(a.platform)
    headline = (
        f"{metric_label(a.metric)} {format_metric(a.metric, a.value, a.currency)}"
        if a.source == "anomaly"
        else a.explanation
    )
    items: list[dict[str, Any]] = [
        {
            "type": "TextBlock",
            "text": f"{a.campaign_name} · {where}",
            "weight": "Bolder",
            "color": "Attention" if a.severity == "critical" else "Warning",
            "wrap": True,
        },
        {"type": "TextBlock", "text": f"{headline} on {a.date_day.isoformat()}", "wrap": True, "spacing": "None"},
    ]
    facts = [{"title": "Severity", "value": a.severity}, {"title": "Id", "value": short_id(a.alert_id)}]
    if a.source == "anomaly":
        facts.append({"title": "Usually", "value": format_metric(a.metric, a.baseline_median, a.currency)})
        if a.robust_z is not None:
            facts.append({"title": "Robust z", "value": f"{a.robust_z:+.1f}"})
    else:
        facts.append({"title": "Rule", "value": a.rule_id or a.signal})
    items.append({"type": "FactSet", "facts": facts})
    return items


def build_card(ws: WorkspaceAlertSettings, alerts: Sequence[Alert], part: int = 1, parts: int = 1) -> dict[str, Any]:
    """The webhook payload: a message with one Adaptive Card (schema 1.4)."""
    body: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": digest_title(ws.name, alerts, part, parts), "size": "Large", "weight": "Bolder", "wrap": True}
    ]
    if ws.open_alerts is not None:
        body.append({"type": "TextBlock", "text": open_line(ws.open_alerts), "isSubtle": True, "wrap": True, "spacing": "None"})
    if ws.chart_url:  # the digest's chart, fetched by Teams from the reporting service's signed URL
        body.append({"type": "Image", "url": ws.chart_url, "altText": "Chart of this digest", "size": "Stretch"})
    actions = []
    for a in alerts:
        body.append({"type": "Container", "separator": True, "items": _alert_items(a)})
        if a.dashboard_link and len(actions) < MAX_ACTIONS:
            actions.append({"type": "Action.OpenUrl", "title": f"Open {a.campaign_name[:40]}", "url": a.dashboard_link})
    card: dict[str, Any] = {
        "$schema": ADAPTIVE_CARD_SCHEMA,
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": body,
    }
    if actions:
        card["actions"] = actions
    return {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}],
    }


def webhook_url(connection_id: str) -> str:
    from ads_elt.registry.connections import airflow_connection

    conn = airflow_connection(connection_id)
    url = (conn.password or "").strip() or (conn.host or "").strip()
    if not url.startswith(("http://", "https://")):
        raise AlertDeliveryError(f"Teams Connection {connection_id!r} has no webhook URL (password or host)")
    return url


def send(connection_id: str, ws: WorkspaceAlertSettings, alerts: Sequence[Alert], part: int, parts: int, chart: Any = None) -> None:
    import requests

    url = webhook_url(connection_id)
    try:
        response = requests.post(url, json=build_card(ws, alerts, part, parts), timeout=30)
        if response.status_code >= 300:
            raise AlertDeliveryError(f"HTTP {response.status_code}")
    except Exception as exc:  # noqa: BLE001 - re-raised without the URL
        reason = redact(f"{type(exc).__name__}: {exc}", [url])
        raise AlertDeliveryError(f"Teams webhook post via Connection {connection_id!r} failed: {reason}") from None
