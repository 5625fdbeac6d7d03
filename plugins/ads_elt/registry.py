"""The workspace registry: which workspaces, their accounts and settings.

One declarative YAML file (`config/workspaces.yml` by default, or the path in
`ADS_ELT_REGISTRY`). It is validated in full before a run writes anything; a
`RegistryError` lists every problem found, each naming the field
(`workspaces[1].accounts[0].platform`), what was wrong and, for a misspelled
name, the nearest valid one. Secrets never live here: an account names the
Airflow Connection that holds its credentials.

    python -m ads_elt.registry check [PATH]

checks a registry without a run: every problem in the file, and every named
Airflow Connection that does not exist (exit status 1 if anything is wrong).

Account ids are taken as users copy them from the platforms' UIs: a Google Ads
customer id `123-456-7890` is `1234567890`, a Meta ad account `act_123` is `123`.

Stores (``stores:`` per workspace) are synced like ad accounts: each names its
platform (shopify, woocommerce, salla, zid), ``store_id`` (the Shopify shop
handle, the WooCommerce site slug, the Salla or Zid store number), the
``connection`` holding its credentials (required: every store has its own),
and optionally ``currency``, ``timezone`` (default the workspace's; the store's
days are local to it) and ``lookback_days`` (orders re-pulled by update time,
default 14). They appear in ``Registry.accounts()`` with ``account_id`` = the
store id.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REGISTRY = REPO_ROOT / "config" / "workspaces.yml"

# Platforms with an extractor, and their default lookback (days re-pulled each run
# because the platform restates them).
PLATFORM_LOOKBACK_DAYS = {
    "meta": 28,
    "google_ads": 14,
    "tiktok": 3,
    "snapchat": 7,
    "linkedin": 7,
    "amazon_ads": 3,
    "file_drop": 0,  # files are loaded as dropped; a later file restates the days it covers
}
AD_PLATFORMS = tuple(PLATFORM_LOOKBACK_DAYS)
# Stores: orders re-pulled by update time over this many days (refunds, cancellations).
STORE_LOOKBACK_DAYS = 14
STORE_PLATFORMS = ("shopify", "woocommerce", "salla", "zid")
PLATFORM_LOOKBACK_DAYS.update({p: STORE_LOOKBACK_DAYS for p in STORE_PLATFORMS})
PLATFORMS = tuple(PLATFORM_LOOKBACK_DAYS)
DEFAULT_CONNECTIONS = {p: f"{p}_default" for p in AD_PLATFORMS}
_STORE_IDS = {
    "shopify": re.compile(r"^[a-z0-9][a-z0-9\-]{0,62}$"),  # the shop's myshopify handle
    "woocommerce": re.compile(r"^[a-z0-9][a-z0-9\-]{0,62}$"),  # a slug for the site
    "salla": re.compile(r"^[0-9]{1,20}$"),
    "zid": re.compile(r"^[0-9]{1,20}$"),
}

_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_ACCOUNT_ID = re.compile(r"^[0-9]{1,20}$")
# Account ids that are not digits: Snapchat ad accounts are UUIDs; a file-drop account is a name.
_ACCOUNT_IDS = {
    "snapchat": re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"),
    "file_drop": re.compile(r"^[a-z][a-z0-9_]{0,62}$"),
}
_CURRENCY = re.compile(r"^[A-Z]{3}$")
_CONN_ID = re.compile(r"^[A-Za-z0-9_.\-]{1,250}$")
_URL_FIELDS = {"workspace_id", "platform", "campaign_id", "date"}


class RegistryError(ValueError):
    """The registry file is invalid; the message lists every problem: file, field and what was wrong."""

    def __init__(self, message: str, problems: list[str] | None = None):
        super().__init__(message)
        self.problems = problems or [message]


def nearest(value: Any, choices) -> str:
    """` (did you mean 'x'?)` for a misspelled name close to one of `choices`, else ''."""
    import difflib

    if not isinstance(value, str):
        return ""
    match = difflib.get_close_matches(value, [str(c) for c in choices], n=1, cutoff=0.75)
    return f" (did you mean {match[0]!r}?)" if match else ""


@dataclass(frozen=True)
class Account:
    workspace_id: str
    platform: str
    account_id: str
    connection: str
    currency: str
    timezone: str
    name: str
    lookback_days: int
    file_drop: Any = None  # adapters.file_drop.FileDropFormat for file-drop accounts

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Workspace:
    id: str
    name: str
    currency: str
    timezone: str
    dashboard_url: str
    slack_connection: str | None
    accounts: tuple[Account, ...]
    alerting: WorkspaceAlerting = field(default_factory=lambda: WorkspaceAlerting())
    stores: tuple[Account, ...] = ()
    # Last-click attribution window of store orders, in days; None = dbt's var `attribution_window_days` (7).
    attribution_window_days: int | None = None


@dataclass(frozen=True)
class Registry:
    path: str
    initial_history_days: int
    workspaces: tuple[Workspace, ...]

    def accounts(self, platform: str | None = None) -> list[Account]:
        """Ad accounts and stores (a store's ``account_id`` is its store id), optionally of one platform."""
        return [a for w in self.workspaces for a in (*w.accounts, *w.stores) if platform is None or a.platform == platform]

    def workspace(self, workspace_id: str) -> Workspace:
        for w in self.workspaces:
            if w.id == workspace_id:
                return w
        raise KeyError(workspace_id)


class _Reader:
    """Walks the parsed YAML, tracking the field path; records every problem and goes on with a stand-in value."""

    def __init__(self, source: str):
        self.source = source
        self.problems: list[str] = []

    def error(self, where: str, problem: str) -> None:
        self.problems.append(f"{self.source}: {where}: {problem}")

    def raise_problems(self) -> None:
        if len(self.problems) == 1:
            raise RegistryError(self.problems[0])
        if self.problems:
            raise RegistryError(f"{self.source}: {len(self.problems)} problems:\n" + "\n".join(self.problems), list(self.problems))

    def mapping(self, value: Any, where: str) -> dict:
        if not isinstance(value, dict):
            self.error(where, f"expected a mapping, got {type(value).__name__}")
            return {}
        return value

    def known_keys(self, value: dict, where: str, allowed: set[str]) -> None:
        for key in sorted(set(value) - allowed, key=str):
            self.error(f"{where}.{key}", f"unknown field (allowed: {', '.join(sorted(allowed))}){nearest(key, allowed)}")

    def string(self, value: dict, key: str, where: str, pattern: re.Pattern | None = None, default: Any = ...) -> str | None:
        if key not in value or value[key] is None:
            if default is ...:
                self.error(f"{where}.{key}", "required field is missing")
                return None
            return default
        v = value[key]
        if isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, str) or not v.strip():
            self.error(f"{where}.{key}", f"expected a non-empty string, got {v!r}")
            return None
        if pattern is not None and not pattern.match(v):
            self.error(f"{where}.{key}", f"{v!r} does not match {pattern.pattern}")
            return None
        return v

    def choice(self, value: dict, key: str, where: str, choices, hint: str = "") -> str | None:
        v = self.string(value, key, where)
        if v is not None and v not in choices:
            self.error(f"{where}.{key}", f"{v!r} is not one of {', '.join(choices)}{hint}{nearest(v, choices)}")
            return None
        return v

    def items(self, value: dict, key: str, where: str, what: str) -> list:
        """The list under `key` (absent: empty); anything else is an error."""
        raw = value.get(key)
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.error(f"{where}.{key}", f"expected a list of {what}")
            return []
        return raw

    def entries(self, value: dict, key: str, where: str, what: str, allowed: set[str]):
        """(path, mapping) of each entry of the list under `key`, its unknown fields reported."""
        for i, raw in enumerate(self.items(value, key, where, what)):
            path = f"{where}.{key}[{i}]"
            entry = self.mapping(raw, path)
            self.known_keys(entry, path, allowed)
            yield path, entry

    def integer(self, value: dict, key: str, where: str, default: int, lo: int, hi: int) -> int:
        v = value.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            self.error(f"{where}.{key}", f"expected a whole number from {lo} to {hi}, got {v!r}")
            return default
        return v

    def timezone(self, value: dict, key: str, where: str, default: Any = ...) -> str | None:
        tz = self.string(value, key, where, default=default)
        if tz is None:
            return None
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            self.error(f"{where}.{key}", f"unknown time zone {tz!r} (use an IANA name like Europe/Berlin)")
            return None
        return tz


def normalise_account_id(platform: str | None, value: Any) -> Any:
    """An account id as the platform's UI shows it, as its API takes it: `123-456-7890` (Google Ads), `act_123` (Meta)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return value
    value = value.strip()
    if platform == "google_ads" and re.fullmatch(r"[0-9]{3}-[0-9]{3}-[0-9]{4}", value):
        return value.replace("-", "")
    if platform == "meta" and re.fullmatch(r"act_[0-9]{1,20}", value):
        return value.removeprefix("act_")
    return value


def parse_registry(data: Any, source: str = "<registry>") -> Registry:
    """The registry from parsed YAML; raises RegistryError listing every problem found."""
    r = _Reader(source)
    registry = _parse(r, data)
    r.raise_problems()
    return registry


def _parse(r: _Reader, data: Any) -> Registry:
    top = r.mapping(data, "top level")
    r.known_keys(top, "top level", {"version", "defaults", "workspaces"})
    if top.get("version") != 1:
        r.error("version", f"expected 1, got {top.get('version')!r}")
    defaults = r.mapping(top.get("defaults") or {}, "defaults")
    r.known_keys(defaults, "defaults", {"initial_history_days", "lookback_days"})
    history = r.integer(defaults, "initial_history_days", "defaults", 90, 1, 3650)
    lookback_defaults = dict(PLATFORM_LOOKBACK_DAYS)
    lb = r.mapping(defaults.get("lookback_days") or {}, "defaults.lookback_days")
    r.known_keys(lb, "defaults.lookback_days", set(PLATFORMS))
    for p in set(lb) & set(PLATFORMS):
        lookback_defaults[p] = r.integer(lb, p, "defaults.lookback_days", lookback_defaults[p], 0, 90)

    raw_workspaces = top.get("workspaces")
    if not isinstance(raw_workspaces, list) or not raw_workspaces:
        r.error("workspaces", "expected a non-empty list of workspaces")
        raw_workspaces = []
    workspaces = []
    seen_ws: set[str] = set()
    seen_accounts: dict[tuple[str, str], str] = {}
    for i, raw_ws in enumerate(raw_workspaces):
        where = f"workspaces[{i}]"
        ws = r.mapping(raw_ws, where)
        ws_keys = {"id", "name", "currency", "timezone", "dashboard_url", "alerts", "accounts", "stores", "attribution_window_days"}
        r.known_keys(ws, where, {*ws_keys, *ALERTING_SECTIONS})
        ws_id = r.string(ws, "id", where, _ID)
        if ws_id is not None and ws_id in seen_ws:
            r.error(f"{where}.id", f"duplicate workspace id {ws_id!r}")
        seen_ws.add(ws_id)
        currency = r.string(ws, "currency", where, _CURRENCY)
        tz = r.timezone(ws, "timezone", where)
        url = r.string(ws, "dashboard_url", where, default="") or ""
        if url:
            placeholders = set(re.findall(r"{(\w+)}", url))
            if not url.startswith(("http://", "https://")):
                r.error(f"{where}.dashboard_url", "must be an http(s) URL")
            elif placeholders - _URL_FIELDS:
                bad = min(placeholders - _URL_FIELDS)
                r.error(f"{where}.dashboard_url", f"unknown placeholder {{{bad}}} (allowed: {', '.join(sorted(_URL_FIELDS))}){nearest(bad, _URL_FIELDS)}")
        alerts = r.mapping(ws.get("alerts") or {}, f"{where}.alerts")
        r.known_keys(alerts, f"{where}.alerts", {"slack_connection", *ALERT_CHANNEL_KEYS})
        slack = r.string(alerts, "slack_connection", f"{where}.alerts", _CONN_ID, default=None)
        raw_accounts = ws.get("accounts")
        if not isinstance(raw_accounts, list) or not raw_accounts:
            r.error(f"{where}.accounts", "expected a non-empty list of accounts")
            raw_accounts = []
        accounts = []
        for j, raw_acc in enumerate(raw_accounts):
            aw = f"{where}.accounts[{j}]"
            acc = r.mapping(raw_acc, aw)
            r.known_keys(acc, aw, {"platform", "account_id", "connection", "currency", "timezone", "name", "lookback_days", "file_drop"})
            hint = " (stores go under `stores`)" if acc.get("platform") in STORE_PLATFORMS else ""
            platform = r.choice(acc, "platform", aw, AD_PLATFORMS, hint)
            if "account_id" in acc:
                acc = {**acc, "account_id": normalise_account_id(platform, acc["account_id"])}
            # (an unknown platform's account id is not checked: its format depends on the platform)
            account_id = r.string(acc, "account_id", aw, _ACCOUNT_IDS.get(platform, _ACCOUNT_ID) if platform else None)
            key = (platform, account_id)
            if platform and account_id and key in seen_accounts:
                r.error(f"{aw}.account_id", f"{platform} account {account_id} is already listed at {seen_accounts[key]}")
            elif platform and account_id:
                seen_accounts[key] = aw
            accounts.append(
                Account(
                    workspace_id=ws_id,
                    platform=platform,
                    account_id=account_id,
                    connection=r.string(acc, "connection", aw, _CONN_ID, default=DEFAULT_CONNECTIONS.get(platform)),
                    currency=r.string(acc, "currency", aw, _CURRENCY, default=currency),
                    timezone=r.timezone(acc, "timezone", aw, default=tz),
                    name=r.string(acc, "name", aw, default=f"{platform} {account_id}"),
                    lookback_days=r.integer(acc, "lookback_days", aw, lookback_defaults.get(platform, 0), 0, 90),
                    file_drop=parse_file_drop(r, acc, aw, platform),
                )
            )
        workspaces.append(
            Workspace(
                id=ws_id,
                name=r.string(ws, "name", where, default=ws_id),
                currency=currency,
                timezone=tz,
                dashboard_url=url,
                slack_connection=slack,
                alerting=parse_alerting(r, ws, where),
                accounts=tuple(accounts),
                stores=parse_stores(r, ws, where, ws_id, currency, tz, lookback_defaults, seen_accounts),
                attribution_window_days=(
                    r.integer(ws, "attribution_window_days", where, 7, 1, 90) if "attribution_window_days" in ws else None
                ),
            )
        )
    return Registry(path=r.source, initial_history_days=history, workspaces=tuple(workspaces))


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


def _date(r: _Reader, value: dict, key: str, where: str) -> date | None:
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


def _number(r: _Reader, value: dict, key: str, where: str, lo: float, hi: float, whole: bool) -> float | int:
    v = value[key]
    ok = not isinstance(v, bool) and isinstance(v, int | float) and (not whole or isinstance(v, int))
    if not ok or not lo <= v <= hi:
        kind = "a whole number" if whole else "a number"
        r.error(f"{where}.{key}", f"expected {kind} from {lo:g} to {hi:g}, got {v!r}")
        return lo
    return v


def _numbers(r: _Reader, value: dict, where: str, allowed: dict) -> list[tuple[str, Any]]:
    return [(k, _number(r, value, k, where, *allowed[k])) for k in sorted(allowed) if k in value]


def parse_alerting(r: _Reader, ws: dict, where: str) -> WorkspaceAlerting:
    """The alerting part of one workspace entry (`alerts` channels, `anomalies`, `rules`, `budget`)."""
    alerts = r.mapping(ws.get("alerts") or {}, f"{where}.alerts")
    aw = f"{where}.alerts"
    email_to = alerts.get("email_to") or []
    if isinstance(email_to, str):
        email_to = [email_to]
    if not isinstance(email_to, list) or not all(isinstance(e, str) and _EMAIL.match(e) for e in email_to):
        r.error(f"{aw}.email_to", f"expected a list of email addresses, got {email_to!r}")
        email_to = []
    email_connection = r.string(alerts, "email_connection", aw, _CONN_ID, default=None)
    if email_connection and not email_to:
        r.error(f"{aw}.email_to", "required when email_connection is set")
    bot = r.string(alerts, "slack_bot_connection", aw, _CONN_ID, default=None)
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
        teams_connection=r.string(alerts, "teams_connection", aw, _CONN_ID, default=None),
        email_connection=email_connection,
        email_to=tuple(email_to),
        suppress_days=r.integer(alerts, "suppress_days", aw, 3, 0, 90),
        worsen_margin=float(_number(r, alerts, "worsen_margin", aw, 0.0, 10.0, False)) if "worsen_margin" in alerts else 0.1,
        anomalies=tuple(anomaly_settings),
        rules=tuple(rule_settings),
        budget=tuple(_numbers(r, budget, bw, _BUDGET_SETTINGS)),
        campaign_budgets=tuple(campaigns),
    )


def parse_stores(
    r: _Reader, ws: dict, where: str, ws_id: str, currency: str, tz: str, lookback: dict, seen: dict
) -> tuple[Account, ...]:
    """A workspace's ``stores`` list: platform, store_id, connection (required), currency, timezone, lookback_days, name."""
    stores = []
    fields = {"platform", "store_id", "connection", "currency", "timezone", "name", "lookback_days"}
    for sw, st in r.entries(ws, "stores", where, "stores", fields):
        platform = r.choice(st, "platform", sw, STORE_PLATFORMS)
        store_id = r.string(st, "store_id", sw, _STORE_IDS.get(platform))
        key = (platform, store_id)
        if platform and store_id and key in seen:
            r.error(f"{sw}.store_id", f"{platform} store {store_id} is already listed at {seen[key]}")
        elif platform and store_id:
            seen[key] = sw
        stores.append(
            Account(
                workspace_id=ws_id,
                platform=platform,
                account_id=store_id,
                connection=r.string(st, "connection", sw, _CONN_ID),
                currency=r.string(st, "currency", sw, _CURRENCY, default=currency),
                timezone=r.timezone(st, "timezone", sw, default=tz),
                name=r.string(st, "name", sw, default=f"{platform} {store_id}"),
                lookback_days=r.integer(st, "lookback_days", sw, lookback.get(platform, STORE_LOOKBACK_DAYS), 0, 90),
            )
        )
    return tuple(stores)


def parse_file_drop(r: _Reader, acc: dict, where: str, platform: str) -> Any:
    """A file-drop account's ``file_drop`` section: format, column per canonical field, date format.

    ``columns`` must name the ``date``, ``campaign_id`` and ``spend`` columns; the other
    canonical fields (campaign_name, impressions, clicks, conversions, conversion_value)
    are optional. Only file-drop accounts have (and need) this section.
    """
    from adapters.file_drop import FIELDS, FORMATS, REQUIRED_FIELDS, FileDropFormat

    fw = f"{where}.file_drop"
    if platform != "file_drop":
        if "file_drop" in acc:
            r.error(fw, "only file_drop accounts have a file_drop section")
        return None
    section = r.mapping(acc.get("file_drop"), fw)
    r.known_keys(section, fw, {"format", "columns", "date_format", "delimiter"})
    fmt = r.choice(section, "format", fw, FORMATS)
    columns = r.mapping(section.get("columns"), f"{fw}.columns")
    r.known_keys(columns, f"{fw}.columns", set(FIELDS))
    for name in REQUIRED_FIELDS:
        r.string(columns, name, f"{fw}.columns")
    mapping = {name: r.string(columns, name, f"{fw}.columns") for name in FIELDS if name in columns}
    delimiter = r.string(section, "delimiter", fw, default=",")
    if delimiter is not None and len(delimiter) != 1:
        r.error(f"{fw}.delimiter", f"expected one character, got {delimiter!r}")
    return FileDropFormat(fmt, mapping, r.string(section, "date_format", fw, default="%Y-%m-%d"), delimiter)


def registry_path() -> Path:
    return Path(os.environ.get("ADS_ELT_REGISTRY") or DEFAULT_REGISTRY)


def load_registry(path: str | os.PathLike | None = None) -> Registry:
    """Read and validate the registry; raises RegistryError naming the problem."""
    p = Path(path) if path else registry_path()
    try:
        text = p.read_text()
    except OSError as exc:
        raise RegistryError(f"{p}: cannot read the registry file ({exc.strerror})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        raise RegistryError(f"{p}: not valid YAML at {at}: {getattr(exc, 'problem', exc)}") from None
    return parse_registry(data, str(p))


def sync_window(
    account: Account, run_date: date, last_success_end: date | None, initial_history_days: int
) -> tuple[date, date]:
    """The dates (account-local, inclusive) a run re-pulls for one account.

    From the last successful window's end (or the initial history on first
    sync) minus the platform's lookback, to the run date. An account that was
    failing for days therefore catches up in full on its next good run.
    """
    from datetime import timedelta

    if last_success_end is None:
        start = run_date - timedelta(days=initial_history_days - 1)
    else:
        start = min(last_success_end, run_date) - timedelta(days=account.lookback_days)
    return start, run_date


# --------------------------------------------------------------------------- Connections and `check`

ALERT_CONNECTIONS = ("slack_connection", "slack_bot_connection", "teams_connection", "email_connection")


@dataclass(frozen=True)
class ConnectionProblem:
    where: str  # the registry field naming the Connection
    conn_id: str
    required: bool  # an account's or store's (its sync fails without it); else an alert channel's (the log stands in)

    def message(self, known: list[str]) -> str:
        if self.required:
            return f"{self.where}: Airflow Connection {self.conn_id!r} does not exist{nearest(self.conn_id, known)}"
        return (
            f"{self.where}: Airflow Connection {self.conn_id!r} does not exist{nearest(self.conn_id, known)}: "
            "that channel's alerts go to the task log"
        )


def named_connections(registry: Registry) -> list[tuple[str, str, bool]]:
    """(registry field, Connection id, required) for every Connection the registry names (defaults included)."""
    out = []
    for i, ws in enumerate(registry.workspaces):
        for kind, accounts in (("accounts", ws.accounts), ("stores", ws.stores)):
            for j, account in enumerate(accounts):
                out.append((f"workspaces[{i}].{kind}[{j}].connection", account.connection, True))
        channels = {"slack_connection": ws.slack_connection, **{k: getattr(ws.alerting, k) for k in ALERT_CONNECTIONS[1:]}}
        for key, conn_id in channels.items():
            if conn_id:
                out.append((f"workspaces[{i}].alerts.{key}", conn_id, False))
    return out


def connection_exists(conn_id: str) -> bool:
    """Whether Airflow resolves `conn_id` (environment variables, secrets backends, the metadata database)."""
    from airflow.sdk import BaseHook

    try:
        BaseHook.get_connection(conn_id)
    except Exception:  # AirflowNotFoundException, or no way to reach the metadata database
        return False
    return True


def known_connection_ids() -> list[str]:
    """Connection ids defined here, for `did you mean`: AIRFLOW_CONN_* variables and, outside a task, the metadata DB."""
    ids = {k.removeprefix("AIRFLOW_CONN_").lower() for k in os.environ if k.startswith("AIRFLOW_CONN_")}
    try:
        from airflow.models import Connection
        from airflow.utils.session import create_session

        with create_session() as session:
            ids |= {c for (c,) in session.query(Connection.conn_id)}  # noqa: AIR311 - the ORM model; airflow.sdk's Connection cannot be queried
    except Exception:  # inside a task (no direct database access) or no metadata database
        pass
    return sorted(ids)


def missing_connections(registry: Registry, exists=connection_exists) -> list[ConnectionProblem]:
    """Every Connection the registry names that Airflow does not have."""
    checked: dict[str, bool] = {}
    problems = []
    for where, conn_id, required in named_connections(registry):
        if conn_id not in checked:
            checked[conn_id] = exists(conn_id)
        if not checked[conn_id]:
            problems.append(ConnectionProblem(where, conn_id, required))
    return problems


def check(path: str | os.PathLike | None = None, exists=connection_exists, known: list[str] | None = None) -> tuple[list[str], list[str]]:
    """(errors, warnings) of a registry: every problem in the file, then every Connection it names that is missing."""
    try:
        registry = load_registry(path)
    except RegistryError as exc:
        return list(exc.problems), []
    problems = missing_connections(registry, exists)
    known = known_connection_ids() if known is None and problems else (known or [])
    errors = [f"{registry.path}: {p.message(known)}" for p in problems if p.required]
    warnings = [f"{registry.path}: {p.message(known)}" for p in problems if not p.required]
    return errors, warnings


def main(argv: list[str] | None = None) -> int:
    import argparse

    ap = argparse.ArgumentParser(prog="python -m ads_elt.registry", description="Check a workspace registry without a run.")
    sub = ap.add_subparsers(dest="command", required=True)
    c = sub.add_parser("check", help="list every problem of the registry and every Connection it names that does not exist")
    c.add_argument("path", nargs="?", default=None, help="the registry file (default: $ADS_ELT_REGISTRY or config/workspaces.yml)")
    args = ap.parse_args(argv)
    path = args.path or registry_path()
    errors, warnings = check(path)
    for line in errors:
        print(f"error: {line}")
    for line in warnings:
        print(f"warning: {line}")
    if errors:
        print(f"{path}: {len(errors)} error(s)")
        return 1
    print(f"{path}: valid" + (f", {len(warnings)} warning(s)" if warnings else ""))
    return 0


if __name__ == "__main__":
    import sys

    sys.exit(main())
