"""Failure callbacks: tell the data team when a task or a run fails.

Posts to the Slack webhook Connection `ADS_ELT_OPS_SLACK_CONN` (default
`slack_ops`) when it exists, and always logs. The message carries the DAG,
task, run and the exception's first line: never connection details.
"""

from __future__ import annotations

import logging
import os

log = logging.getLogger(__name__)


def failure_message(context) -> str:
    ti = context.get("task_instance") or context.get("ti")
    dag_id = getattr(context.get("dag"), "dag_id", None) or getattr(ti, "dag_id", "?")
    task_id = getattr(ti, "task_id", None)
    run_id = getattr(context.get("dag_run"), "run_id", None) or getattr(ti, "run_id", "?")
    exc = context.get("exception")
    reason = str(exc).splitlines()[0][:500] if exc else "see the task log"
    where = f"{dag_id}.{task_id}" if task_id else dag_id
    return f":red_circle: {where} failed in run {run_id}: {reason}"


def notify_failure(context) -> None:
    text = failure_message(context)
    log.error(text)
    conn_id = os.environ.get("ADS_ELT_OPS_SLACK_CONN", "slack_ops")
    try:
        from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook
        from airflow.sdk import BaseHook

        BaseHook.get_connection(conn_id)
    except Exception:
        return  # no ops channel configured: the log line above is the notification
    try:
        SlackWebhookHook(slack_webhook_conn_id=conn_id).send(text=text)
    except Exception as exc:  # a failing notifier must not mask the original failure
        log.warning("could not post the failure to Slack: %s", type(exc).__name__)
