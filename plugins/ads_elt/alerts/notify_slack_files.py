"""Slack file upload (the digest's chart) with a bot token, through the provider's SlackHook.

`alerts.slack_bot_connection` names an Airflow Connection of type ``slack``
whose password is the bot token (xoxb-..., scope ``files:write``); its extra
may set ``base_url``. The chart goes to `alerts.slack_channel` (a channel id).
"""

from __future__ import annotations

from pathlib import Path

from ads_elt.alerts.formatting import redact, slack_client_log
from ads_elt.alerts.model import AlertDeliveryError


def upload_file(connection_id: str, channel: str, path, title: str) -> None:
    """Upload a PNG with `files_upload_v2`; raises AlertDeliveryError (token removed) on failure."""
    from airflow.providers.slack.hooks.slack import SlackHook

    secrets: list[str] = []
    try:
        hook = SlackHook(slack_conn_id=connection_id, timeout=30, logger=slack_client_log)
        client = hook.client
        secrets.append(client.token or "")
        client.files_upload_v2(channel=channel, file=str(path), filename=Path(path).name, title=title, initial_comment=title)
    except Exception as exc:  # noqa: BLE001 - re-raised without the token
        reason = redact(f"{type(exc).__name__}: {exc}", secrets)
        raise AlertDeliveryError(f"Slack file upload via Connection {connection_id!r} failed: {reason}") from None
