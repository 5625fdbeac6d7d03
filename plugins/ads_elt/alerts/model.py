"""What an alert is: the workspace's alert settings, an alert, its delivery, the errors, and the registry's settings mirrored where dbt reads them."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from ads_elt.alerts import states as alert_states

log = logging.getLogger("ads_elt.alerts")

DEFAULT_THRESHOLD = 3.5
CRITICAL_FACTOR = 2.0
ANOMALY_RELATION = "marts.mart_anomalies"
ALERT_RELATION = "marts.mart_alerts"
LOG_CHANNEL = "log"


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
    open_alerts: int | None = None  # set for each digest: the workspace's series still open (ads_elt.alerts.states)
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
