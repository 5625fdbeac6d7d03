"""Where a digest goes besides the log: Slack by webhook (the secret kept out of errors and logs), Teams and email (ads_elt.alerts.notify_teams, ads_elt.alerts.notify_email)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from ads_elt.alerts.formatting import redact, slack_client_log
from ads_elt.alerts.model import Alert, AlertDeliveryError, SlackConnectionNotFound, WorkspaceAlertSettings

log = logging.getLogger("ads_elt.alerts")


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
        hook = SlackWebhookHook(slack_webhook_conn_id=connection_id, timeout=30, logger=slack_client_log)
        secrets.append(hook.client.url)
        hook.send_dict(payload)
    except Exception as exc:  # noqa: BLE001 - any failure is re-raised, with the secret removed
        reason = redact(f"{type(exc).__name__}: {exc}", secrets)
        raise AlertDeliveryError(f"Slack webhook post via Connection {connection_id!r} failed: {reason}") from None


SlackSender = Callable[[str, dict], None]
# A channel sender: (connection id, workspace settings, alerts of one message, part, parts, chart path or None).
ChannelSender = Callable[[str, WorkspaceAlertSettings, Sequence[Alert], int, int, Any], None]


def default_senders() -> dict[str, ChannelSender]:
    from ads_elt.alerts import notify_email, notify_teams

    return {"teams": notify_teams.send, "email": notify_email.send}
