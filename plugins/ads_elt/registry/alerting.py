"""A workspace's alerting settings in the registry: channels, the detector's and the rules' overrides, campaign
budgets, planned changes."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from ads_elt.registry.base import AD_PLATFORMS, CONN_ID_PATTERN, PLATFORMS, Reader, nearest

# --------------------------------------------------------------------------- alerting, anomalies, rules, budget
#
# Per workspace, all optional (absent = the product defaults: dbt vars in
# dbt_project.yml and the `alert_rules` seed):
#
#   alerts:    slack_connection, slack_bot_connection + slack_channel (chart uploads),
#              teams_connection, email_connection + email_to, suppress_days, worsen_margin
#   anomalies: window_days, z_threshold, metrics, min_history_days, dow_weeks,
#              dow_min_history, min_spend, min_impressions, min_clicks, min_conversions
#   rules:     {<rule_id>: {enabled, threshold, secondary_threshold, min_spend, min_impressions, min_conversions, platforms}}
#              (a `threshold` is the workspace's own target: the rule then applies on every
#              platform, unless `platforms` lists where; acos_above defaults to Amazon Ads)
#   budget:    monthly (reporting currency), campaigns [{platform, campaign_id, monthly}],
#              max_shift_share, min_daily_budget, min_spend_28d, min_conversions_28d, min_roas_gap
#   planned_changes: [{kind, start, end, platform, campaign_id, settle_days, note}]: what the
#              workspace plans (a launch, a budget step, a promotion, a pause); the alerts it
#              explains are kept in marts.mart_alerts with `planned_change_id` and never sent
#
# `prepare` mirrors them into ops.workspace_settings / ops.campaign_budgets for dbt.

ALERTING_SECTIONS = ("anomalies", "rules", "budget", "planned_changes")
ALERT_CHANNEL_KEYS = (
    "slack_bot_connection",
    "slack_channel",
    "teams_connection",
    "email_connection",
    "email_to",
    "suppress_days",
    "worsen_margin",
)
ANOMALY_METRICS = ("spend", "ctr", "cvr", "cpa", "roas")
RULE_IDS = (
    "roas_below_baseline",
    "spend_up_conversions_down",
    "ctr_below_baseline",
    "spend_spike_day_over_day",
    "acos_above",
    "roas_below_floor",
    "conversions_stopped",
    "stopped_reporting",
    "budget_pacing",
    "conversion_value_sliding",
)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_SLACK_CHANNEL = re.compile(r"^[#A-Za-z0-9_\-]{1,80}$")
# setting name -> (lo, hi, whole number?)
_ANOMALY_SETTINGS = {
    "window_days": (7, 365, True),
    "z_threshold": (1.0, 50.0, False),
    "min_history_days": (3, 365, True),
    "dow_weeks": (2, 52, True),
    "dow_min_history": (2, 52, True),
    "min_spend": (0.0, 1e9, False),
    "min_impressions": (0, 10**9, True),
    "min_clicks": (0, 10**9, True),
    "min_conversions": (0.0, 1e9, False),
}
_RULE_SETTINGS = {
    "threshold": (0.0, 1e9, False),
    "secondary_threshold": (0.0, 1e9, False),
    "min_spend": (0.0, 1e9, False),
    "min_impressions": (0, 10**9, True),
    "min_conversions": (0.0, 1e9, False),
}
_BUDGET_SETTINGS = {
    "monthly": (0.0, 1e12, False),
    "max_shift_share": (0.0, 1.0, False),
    "min_daily_budget": (0.0, 1e9, False),
    "min_spend_28d": (0.0, 1e12, False),
    "min_conversions_28d": (0.0, 1e9, False),
    "min_roas_gap": (0.0, 10.0, False),
}


@dataclass(frozen=True)
class CampaignBudget:
    platform: str
    campaign_id: str
    monthly: float


PLANNED_CHANGE_KINDS = ("launch", "budget_step", "promotion", "pause")
# Days after its end during which a planned change still explains its alerts: the trailing
# baselines (28 days, median) need about half their window to take in a new level.
DEFAULT_SETTLE_DAYS = {"launch": 14, "budget_step": 14, "promotion": 0, "pause": 0}


@dataclass(frozen=True)
class PlannedChange:
    """A change the workspace plans; the alerts it explains are not sent (dbt: int_planned_changes)."""

    kind: str
    start: date
    end: date
    platform: str | None = None  # None: every platform
    campaign_id: str | None = None  # None: every campaign (and the workspace totals)
    settle_days: int = 0
    note: str = ""


@dataclass(frozen=True)
class WorkspaceAlerting:
    """A workspace's alert channels and its anomaly, rule and budget settings."""

    slack_bot_connection: str | None = None
    slack_channel: str | None = None
    teams_connection: str | None = None
    email_connection: str | None = None
    email_to: tuple[str, ...] = ()
    suppress_days: int = 3
    worsen_margin: float = 0.1
    anomalies: tuple[tuple[str, Any], ...] = ()
    rules: tuple[tuple[str, str, Any], ...] = ()
    budget: tuple[tuple[str, Any], ...] = ()
    campaign_budgets: tuple[CampaignBudget, ...] = ()
    planned_changes: tuple[PlannedChange, ...] = ()

    def settings(self) -> dict[str, str]:
        """Flat `setting -> text` pairs for ops.workspace_settings (read by dbt)."""
        out = {"alert_suppress_days": str(self.suppress_days)}
        out.update({f"anomaly_{k}": _text(v) for k, v in self.anomalies})
        out.update({f"rule.{rule}.{k}": _text(v) for rule, k, v in self.rules})
        out.update({f"budget_{k}": _text(v) for k, v in self.budget})
        return out


def _date(r: Reader, value: dict, key: str, where: str) -> date | None:
    v = value.get(key)
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        try:
            return date.fromisoformat(v)
        except ValueError:
            pass
    r.error(f"{where}.{key}", "required field is missing" if v is None else f"expected a date YYYY-MM-DD, got {v!r}")
    return None


def _one_line(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def _number(r: Reader, value: dict, key: str, where: str, lo: float, hi: float, whole: bool) -> float | int:
    v = value[key]
    ok = not isinstance(v, bool) and isinstance(v, int | float) and (not whole or isinstance(v, int))
    if not ok or not lo <= v <= hi:
        kind = "a whole number" if whole else "a number"
        r.error(f"{where}.{key}", f"expected {kind} from {lo:g} to {hi:g}, got {v!r}")
        return lo
    return v


def _numbers(r: Reader, value: dict, where: str, allowed: dict) -> list[tuple[str, Any]]:
    return [(k, _number(r, value, k, where, *allowed[k])) for k in sorted(allowed) if k in value]


def parse_alerting(r: Reader, ws: dict, where: str) -> WorkspaceAlerting:
    """The alerting part of one workspace entry (`alerts` channels, `anomalies`, `rules`, `budget`)."""
    alerts = r.mapping(ws.get("alerts") or {}, f"{where}.alerts")
    aw = f"{where}.alerts"
    email_to = alerts.get("email_to") or []
    if isinstance(email_to, str):
        email_to = [email_to]
    if not isinstance(email_to, list) or not all(isinstance(e, str) and _EMAIL.match(e) for e in email_to):
        r.error(f"{aw}.email_to", f"expected a list of email addresses, got {email_to!r}")
        email_to = []
    email_connection = r.string(alerts, "email_connection", aw, CONN_ID_PATTERN, default=None)
    if email_connection and not email_to:
        r.error(f"{aw}.email_to", "required when email_connection is set")
    bot = r.string(alerts, "slack_bot_connection", aw, CONN_ID_PATTERN, default=None)
    channel = r.string(alerts, "slack_channel", aw, _SLACK_CHANNEL, default=None)
    if bot and not channel:
        r.error(f"{aw}.slack_channel", "required when slack_bot_connection is set (the channel charts go to)")

    anomalies = r.mapping(ws.get("anomalies") or {}, f"{where}.anomalies")
    nw = f"{where}.anomalies"
    r.known_keys(anomalies, nw, {*_ANOMALY_SETTINGS, "metrics"})
    anomaly_settings: list[tuple[str, Any]] = _numbers(r, anomalies, nw, _ANOMALY_SETTINGS)
    if "metrics" in anomalies:
        metrics = anomalies["metrics"]
        if not isinstance(metrics, list) or not metrics or not set(metrics) <= set(ANOMALY_METRICS):
            r.error(f"{nw}.metrics", f"expected a non-empty list from {', '.join(ANOMALY_METRICS)}, got {metrics!r}")
        else:
            anomaly_settings.append(("metrics", tuple(metrics)))

    rules = r.mapping(ws.get("rules") or {}, f"{where}.rules")
    rw = f"{where}.rules"
    r.known_keys(rules, rw, set(RULE_IDS))
    rule_settings: list[tuple[str, str, Any]] = []
    for rule_id in sorted(set(rules) & set(RULE_IDS)):
        rule = r.mapping(rules[rule_id] or {}, f"{rw}.{rule_id}")
        r.known_keys(rule, f"{rw}.{rule_id}", {*_RULE_SETTINGS, "enabled", "platforms"})
        if "platforms" in rule:
            chosen = rule["platforms"]
            if not isinstance(chosen, list) or not chosen or not all(isinstance(p, str) for p in chosen):
                r.error(f"{rw}.{rule_id}.platforms", f"expected a non-empty list of platforms, got {chosen!r}")
            else:
                for i, name in enumerate(chosen):
                    if name not in AD_PLATFORMS:
                        r.error(f"{rw}.{rule_id}.platforms[{i}]", f"unknown ad platform {name!r}{nearest(name, AD_PLATFORMS)}")
                rule_settings.append((rule_id, "platforms", tuple(chosen)))
        if "enabled" in rule:
            if not isinstance(rule["enabled"], bool):
                r.error(f"{rw}.{rule_id}.enabled", f"expected true or false, got {rule['enabled']!r}")
            else:
                rule_settings.append((rule_id, "enabled", rule["enabled"]))
        rule_settings += [(rule_id, k, v) for k, v in _numbers(r, rule, f"{rw}.{rule_id}", _RULE_SETTINGS)]

    budget = r.mapping(ws.get("budget") or {}, f"{where}.budget")
    bw = f"{where}.budget"
    r.known_keys(budget, bw, {*_BUDGET_SETTINGS, "campaigns"})
    campaigns = []
    for i, raw in enumerate(budget.get("campaigns") or []):
        cw = f"{bw}.campaigns[{i}]"
        c = r.mapping(raw, cw)
        r.known_keys(c, cw, {"platform", "campaign_id", "monthly"})
        platform = r.choice(c, "platform", cw, PLATFORMS)
        if "monthly" not in c:
            r.error(f"{cw}.monthly", "required field is missing")
            continue
        campaigns.append(
            CampaignBudget(platform, r.string(c, "campaign_id", cw), float(_number(r, c, "monthly", cw, 0.0, 1e12, False)))
        )
    planned = []
    fields = {"kind", "start", "end", "platform", "campaign_id", "settle_days", "note"}
    for pw, c in r.entries(ws, "planned_changes", where, "planned changes", fields):
        kind = r.choice(c, "kind", pw, PLANNED_CHANGE_KINDS)
        start = _date(r, c, "start", pw)
        end = _date(r, c, "end", pw) if c.get("end") is not None else start
        if start and end and end < start:
            r.error(f"{pw}.end", f"{end} is before start {start}")
        platform = r.choice(c, "platform", pw, AD_PLATFORMS) if c.get("platform") is not None else None
        campaign = r.string(c, "campaign_id", pw, default=None)
        if campaign and not platform:
            r.error(f"{pw}.platform", "required when campaign_id is set (campaign ids are per platform)")
        settle = r.integer(c, "settle_days", pw, DEFAULT_SETTLE_DAYS.get(kind or "", 0), 0, 90)
        note = c.get("note") or ""
        if start and end and kind:
            planned.append(PlannedChange(kind, start, end, platform, campaign, settle, _one_line(str(note))))
    return WorkspaceAlerting(
        planned_changes=tuple(planned),
        slack_bot_connection=bot,
        slack_channel=channel,
        teams_connection=r.string(alerts, "teams_connection", aw, CONN_ID_PATTERN, default=None),
        email_connection=email_connection,
        email_to=tuple(email_to),
        suppress_days=r.integer(alerts, "suppress_days", aw, 3, 0, 90),
        worsen_margin=float(_number(r, alerts, "worsen_margin", aw, 0.0, 10.0, False)) if "worsen_margin" in alerts else 0.1,
        anomalies=tuple(anomaly_settings),
        rules=tuple(rule_settings),
        budget=tuple(_numbers(r, budget, bw, _BUDGET_SETTINGS)),
        campaign_budgets=tuple(campaigns),
    )
