"""Email: one message per workspace digest over SMTP (text and HTML, the chart attached).

The workspace's `alerts.email_connection` names an Airflow Connection: host,
port (default 25; 465 with `ssl`), optional login/password, and extra
`{"from_email": "alerts@example.com", "starttls": true, "ssl": false}`.
Recipients are `alerts.email_to` in the registry.
"""

from __future__ import annotations

import html
import smtplib
from collections.abc import Sequence
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from ads_elt.alerts.formatting import build_text, digest_title, redact
from ads_elt.alerts.model import Alert, AlertDeliveryError, WorkspaceAlertSettings


def build_message(
    ws: WorkspaceAlertSettings, alerts: Sequence[Alert], sender: str, part: int = 1, parts: int = 1, chart: Any = None
) -> EmailMessage:
    msg = EmailMessage()
    msg["Subject"] = digest_title(ws.name, alerts, part, parts)
    msg["From"] = sender
    msg["To"] = ", ".join(ws.email_to)
    msg.set_content(build_text(ws, alerts, part, parts))
    rows = "".join(
        f"<li><b>[{html.escape(a.severity)}]</b> {html.escape(a.message)}"
        + (f' <a href="{html.escape(a.dashboard_link, quote=True)}">Open dashboard</a>' if a.dashboard_link else "")
        + "</li>"
        for a in alerts
    )
    msg.add_alternative(f"<h2>{html.escape(str(msg['Subject']))}</h2><ul>{rows}</ul>", subtype="html")
    if chart is not None and Path(chart).exists():
        msg.add_attachment(Path(chart).read_bytes(), maintype="image", subtype="png", filename=Path(chart).name)
    return msg


def send(connection_id: str, ws: WorkspaceAlertSettings, alerts: Sequence[Alert], part: int, parts: int, chart: Any = None) -> None:
    from ads_elt.registry.connections import airflow_connection

    conn = airflow_connection(connection_id)
    extra = conn.extra_dejson or {}
    use_ssl = bool(extra.get("ssl"))
    host, port = conn.host or "localhost", int(conn.port or (465 if use_ssl else 25))
    sender = extra.get("from_email") or conn.login or "ads-alerts@localhost"
    secrets = [conn.password or ""]
    try:
        client = smtplib.SMTP_SSL(host, port, timeout=30) if use_ssl else smtplib.SMTP(host, port, timeout=30)
        with client:
            if extra.get("starttls"):
                client.starttls()
            if conn.login and conn.password:
                client.login(conn.login, conn.password)
            client.send_message(build_message(ws, alerts, sender, part, parts, chart))
    except Exception as exc:  # noqa: BLE001 - re-raised without secrets
        reason = redact(f"{type(exc).__name__}: {exc}", secrets)
        raise AlertDeliveryError(f"email via Connection {connection_id!r} failed: {reason}") from None
