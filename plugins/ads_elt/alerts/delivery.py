"""The alerts step: deliver each workspace's digest to each of its channels exactly once, with its chart and signed links (`run_alerts`)."""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import date
from typing import Any

from ads_elt.alerts import links
from ads_elt.alerts import states as alert_states
from ads_elt.alerts.channels import ChannelSender, SlackSender, default_senders, send_slack_webhook
from ads_elt.alerts.formatting import (
    as_date,
    build_slack_payload,
    build_text,
    chunks,
    digest_title,
    ordered,
    redact,
)
from ads_elt.alerts.model import (
    DEFAULT_THRESHOLD,
    LOG_CHANNEL,
    Alert,
    AlertDeliveryError,
    Delivery,
    SlackConnectionNotFound,
    WorkspaceAlertSettings,
)
from ads_elt.alerts.selection import (
    WEEKLY_DIGEST_WEEKDAY,
    build_alerts,
    fetch_alerts,
    fetch_recommendations,
    lock_pending,
    mark_sent,
    recommendation_alerts,
    record_and_select_new,
)

log = logging.getLogger("ads_elt.alerts")


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
    channel_senders = {**default_senders(), **(senders or {})}
    by_workspace: dict[str, list[Alert]] = defaultdict(list)
    for a in alerts:
        by_workspace[a.workspace_id].append(a)

    deliveries: list[Delivery] = []
    for ws_id in sorted(by_workspace):
        ws = settings.get(ws_id) or WorkspaceAlertSettings(workspace_id=ws_id, name=ws_id)
        group = ordered(by_workspace[ws_id])
        parts = chunks(group)
        for i, chunk in enumerate(parts, start=1):
            delivery = _deliver_part(conn, ws, chunk, i, len(parts), send, channel_senders, upload_chart, chart_for, reporting)
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
            from ads_elt.alerts.notify_slack_files import upload_file

            try:
                (upload_chart or upload_file)(
                    ws.slack_bot_connection,
                    ws.slack_channel,
                    chart,
                    title=digest_title(ws.name, alerts, part, parts),
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
    locked = lock_pending(conn, [a.alert_key for a in chunk])
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
        return Delivery(
            ws.workspace_id, channel_label, keys, status="failed", texts=[links.without_signatures(text)], error=reason
        )
    mark_sent(conn, keys, channel_label)
    conn.commit()
    log.info("delivered %d alert(s) for workspace %s via %s", len(keys), ws.workspace_id, channel_label)
    return Delivery(ws.workspace_id, channel_label, keys, status="sent", texts=[links.without_signatures(text)])


def chart_link(service: links.ReportingService | None, workspace_id: str, alert_id: str) -> str | None:
    """The digest chart at the reporting service (`/charts/<alert id>.png`), signed; None when the service has no URL."""
    if service is None or not service.url:
        return None
    return service.sign(f"{service.url}/charts/{alert_id}.png", workspace_id)


def signed_dashboard_links(alerts: Sequence[Alert], service: links.ReportingService | None) -> list[Alert]:
    """Each alert's dashboard link signed for its workspace (`ads_elt.alerts.links`), when the reporting service's key is set."""
    if service is None:
        return list(alerts)
    return [replace(a, dashboard_link=service.sign(a.dashboard_link, a.workspace_id)) if a.dashboard_link else a for a in alerts]


def _chart_for(conn) -> Callable[[WorkspaceAlertSettings, Sequence[Alert], int], Any]:
    def render(ws: WorkspaceAlertSettings, alerts: Sequence[Alert], part: int):
        from ads_elt.alerts import charts

        return charts.digest_chart(conn, ws, alerts, part)

    return render


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
    day = as_date(run_date)
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
