"""The workspace registry: which workspaces, their accounts and settings.

One declarative YAML file (`config/workspaces.yml` by default, or the path in
`ADS_ELT_REGISTRY`). It is validated in full before a run writes anything; the
first problem found stops the run with a `RegistryError` that names the field
(`workspaces[1].accounts[0].platform`) and what was wrong. Secrets never live
here: an account names the Airflow Connection that holds its credentials.

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
    """The registry file is invalid; the message names the file, field and problem."""


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
    """Walks the parsed YAML, tracking the field path for error messages."""

    def __init__(self, source: str):
        self.source = source

    def fail(self, where: str, problem: str) -> RegistryError:
        return RegistryError(f"{self.source}: {where}: {problem}")

    def mapping(self, value: Any, where: str) -> dict:
        if not isinstance(value, dict):
            raise self.fail(where, f"expected a mapping, got {type(value).__name__}")
        return value

    def known_keys(self, value: dict, where: str, allowed: set[str]) -> None:
        unknown = sorted(set(value) - allowed)
        if unknown:
            raise self.fail(f"{where}.{unknown[0]}", f"unknown field (allowed: {', '.join(sorted(allowed))})")

    def string(self, value: dict, key: str, where: str, pattern: re.Pattern | None = None, default: Any = ...) -> str:
        if key not in value or value[key] is None:
            if default is ...:
                raise self.fail(f"{where}.{key}", "required field is missing")
            return default
        v = value[key]
        if isinstance(v, int) and not isinstance(v, bool):
            v = str(v)
        if not isinstance(v, str) or not v.strip():
            raise self.fail(f"{where}.{key}", f"expected a non-empty string, got {v!r}")
        if pattern is not None and not pattern.match(v):
            raise self.fail(f"{where}.{key}", f"{v!r} does not match {pattern.pattern}")
        return v

    def integer(self, value: dict, key: str, where: str, default: int, lo: int, hi: int) -> int:
        v = value.get(key, default)
        if isinstance(v, bool) or not isinstance(v, int) or not lo <= v <= hi:
            raise self.fail(f"{where}.{key}", f"expected a whole number from {lo} to {hi}, got {v!r}")
        return v

    def timezone(self, value: dict, key: str, where: str, default: Any = ...) -> str:
        tz = self.string(value, key, where, default=default)
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(f"{where}.{key}", f"unknown time zone {tz!r} (use an IANA name like Europe/Berlin)") from None
        return tz


def parse_registry(data: Any, source: str = "<registry>") -> Registry:
    r = _Reader(source)
    top = r.mapping(data, "top level")
    r.known_keys(top, "top level", {"version", "defaults", "workspaces"})
    if top.get("version") != 1:
        raise r.fail("version", f"expected 1, got {top.get('version')!r}")
    defaults = r.mapping(top.get("defaults") or {}, "defaults")
    r.known_keys(defaults, "defaults", {"initial_history_days", "lookback_days"})
    history = r.integer(defaults, "initial_history_days", "defaults", 90, 1, 3650)
    lookback_defaults = dict(PLATFORM_LOOKBACK_DAYS)
    lb = r.mapping(defaults.get("lookback_days") or {}, "defaults.lookback_days")
    r.known_keys(lb, "defaults.lookback_days", set(PLATFORMS))
    for p in lb:
        lookback_defaults[p] = r.integer(lb, p, "defaults.lookback_days", 0, 0, 90)

    raw_workspaces = top.get("workspaces")
    if not isinstance(raw_workspaces, list) or not raw_workspaces:
        raise r.fail("workspaces", "expected a non-empty list of workspaces")
    workspaces = []
    seen_ws: set[str] = set()
    seen_accounts: dict[tuple[str, str], str] = {}
    for i, raw_ws in enumerate(raw_workspaces):
        where = f"workspaces[{i}]"
        ws = r.mapping(raw_ws, where)
        ws_keys = {"id", "name", "currency", "timezone", "dashboard_url", "alerts", "accounts", "stores", "attribution_window_days"}
        r.known_keys(ws, where, {*ws_keys, *ALERTING_SECTIONS})
        ws_id = r.string(ws, "id", where, _ID)
        if ws_id in seen_ws:
            raise r.fail(f"{where}.id", f"duplicate workspace id {ws_id!r}")
        seen_ws.add(ws_id)
        currency = r.string(ws, "currency", where, _CURRENCY)
        tz = r.timezone(ws, "timezone", where)
        url = r.string(ws, "dashboard_url", where, default="")
        if url:
            if not url.startswith(("http://", "https://")):
                raise r.fail(f"{where}.dashboard_url", "must be an http(s) URL")
            placeholders = set(re.findall(r"{(\w+)}", url))
            if placeholders - _URL_FIELDS:
                bad = min(placeholders - _URL_FIELDS)
                raise r.fail(f"{where}.dashboard_url", f"unknown placeholder {{{bad}}} (allowed: {', '.join(sorted(_URL_FIELDS))})")
        alerts = r.mapping(ws.get("alerts") or {}, f"{where}.alerts")
        r.known_keys(alerts, f"{where}.alerts", {"slack_connection", *ALERT_CHANNEL_KEYS})
        slack = r.string(alerts, "slack_connection", f"{where}.alerts", _CONN_ID, default=None)
        raw_accounts = ws.get("accounts")
        if not isinstance(raw_accounts, list) or not raw_accounts:
            raise r.fail(f"{where}.accounts", "expected a non-empty list of accounts")
        accounts = []
        for j, raw_acc in enumerate(raw_accounts):
            aw = f"{where}.accounts[{j}]"
            acc = r.mapping(raw_acc, aw)
            r.known_keys(acc, aw, {"platform", "account_id", "connection", "currency", "timezone", "name", "lookback_days", "file_drop"})
            platform = r.string(acc, "platform", aw)
            if platform not in AD_PLATFORMS:
                hint = " (stores go under `stores`)" if platform in STORE_PLATFORMS else ""
                raise r.fail(f"{aw}.platform", f"{platform!r} is not one of {', '.join(AD_PLATFORMS)}{hint}")
            account_id = r.string(acc, "account_id", aw, _ACCOUNT_IDS.get(platform, _ACCOUNT_ID))
            key = (platform, account_id)
            if key in seen_accounts:
                raise r.fail(f"{aw}.account_id", f"{platform} account {account_id} is already listed at {seen_accounts[key]}")
            seen_accounts[key] = aw
            accounts.append(
                Account(
                    workspace_id=ws_id,
                    platform=platform,
                    account_id=account_id,
                    connection=r.string(acc, "connection", aw, _CONN_ID, default=DEFAULT_CONNECTIONS[platform]),
                    currency=r.string(acc, "currency", aw, _CURRENCY, default=currency),
                    timezone=r.timezone(acc, "timezone", aw, default=tz),
                    name=r.string(acc, "name", aw, default=f"{platform} {account_id}"),
                    lookback_days=r.integer(acc, "lookback_days", aw, lookback_defaults[platform], 0, 90),
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
    return Registry(path=source, initial_history_days=history, workspaces=tuple(workspaces))


# --------------------------------------------------------------------------- alerting, anomalies, rules, budget
#
# Per workspace, all optional (absent = the product defaults: dbt vars in
# dbt_project.yml and the `alert_rules` seed):
#
#   alerts:    slack_connection, slack_bot_connection + slack_channel (chart uploads),
#              teams_connection, email_connection + email_to, suppress_days, worsen_margin
#   anomalies: window_days, z_threshold, metrics, min_history_days, dow_weeks,
#              dow_min_history, min_spend, min_impressions, min_clicks, min_conversions
#   rules:     {<rule_id>: {enabled, threshold, secondary_threshold, min_spend, min_impressions}}
#   budget:    monthly (reporting currency), campaigns [{platform, campaign_id, monthly}],
#              max_shift_share, min_daily_budget, min_spend_28d, min_conversions_28d, min_roas_gap
#
# `prepare` mirrors them into ops.workspace_settings / ops.campaign_budgets for dbt.

ALERTING_SECTIONS = ("anomalies", "rules", "budget")
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

    def settings(self) -> dict[str, str]:
        """Flat `setting -> text` pairs for ops.workspace_settings (read by dbt)."""
        out = {"alert_suppress_days": str(self.suppress_days)}
        out.update({f"anomaly_{k}": _text(v) for k, v in self.anomalies})
        out.update({f"rule.{rule}.{k}": _text(v) for rule, k, v in self.rules})
        out.update({f"budget_{k}": _text(v) for k, v in self.budget})
        return out


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
        raise r.fail(f"{where}.{key}", f"expected {kind} from {lo:g} to {hi:g}, got {v!r}")
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
        raise r.fail(f"{aw}.email_to", f"expected a list of email addresses, got {email_to!r}")
    email_connection = r.string(alerts, "email_connection", aw, _CONN_ID, default=None)
    if email_connection and not email_to:
        raise r.fail(f"{aw}.email_to", "required when email_connection is set")
    bot = r.string(alerts, "slack_bot_connection", aw, _CONN_ID, default=None)
    channel = r.string(alerts, "slack_channel", aw, _SLACK_CHANNEL, default=None)
    if bot and not channel:
        raise r.fail(f"{aw}.slack_channel", "required when slack_bot_connection is set (the channel charts go to)")

    anomalies = r.mapping(ws.get("anomalies") or {}, f"{where}.anomalies")
    nw = f"{where}.anomalies"
    r.known_keys(anomalies, nw, {*_ANOMALY_SETTINGS, "metrics"})
    anomaly_settings: list[tuple[str, Any]] = _numbers(r, anomalies, nw, _ANOMALY_SETTINGS)
    if "metrics" in anomalies:
        metrics = anomalies["metrics"]
        if not isinstance(metrics, list) or not metrics or not set(metrics) <= set(ANOMALY_METRICS):
            raise r.fail(f"{nw}.metrics", f"expected a non-empty list from {', '.join(ANOMALY_METRICS)}, got {metrics!r}")
        anomaly_settings.append(("metrics", tuple(metrics)))

    rules = r.mapping(ws.get("rules") or {}, f"{where}.rules")
    rw = f"{where}.rules"
    r.known_keys(rules, rw, set(RULE_IDS))
    rule_settings: list[tuple[str, str, Any]] = []
    for rule_id in sorted(rules):
        rule = r.mapping(rules[rule_id] or {}, f"{rw}.{rule_id}")
        r.known_keys(rule, f"{rw}.{rule_id}", {*_RULE_SETTINGS, "enabled"})
        if "enabled" in rule:
            if not isinstance(rule["enabled"], bool):
                raise r.fail(f"{rw}.{rule_id}.enabled", f"expected true or false, got {rule['enabled']!r}")
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
        platform = r.string(c, "platform", cw)
        if platform not in PLATFORMS:
            raise r.fail(f"{cw}.platform", f"{platform!r} is not one of {', '.join(PLATFORMS)}")
        if "monthly" not in c:
            raise r.fail(f"{cw}.monthly", "required field is missing")
        campaigns.append(
            CampaignBudget(platform, r.string(c, "campaign_id", cw), float(_number(r, c, "monthly", cw, 0.0, 1e12, False)))
        )
    return WorkspaceAlerting(
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
    raw = ws.get("stores")
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise r.fail(f"{where}.stores", "expected a list of stores")
    stores = []
    for j, raw_store in enumerate(raw):
        sw = f"{where}.stores[{j}]"
        st = r.mapping(raw_store, sw)
        r.known_keys(st, sw, {"platform", "store_id", "connection", "currency", "timezone", "name", "lookback_days"})
        platform = r.string(st, "platform", sw)
        if platform not in STORE_PLATFORMS:
            raise r.fail(f"{sw}.platform", f"{platform!r} is not one of {', '.join(STORE_PLATFORMS)}")
        store_id = r.string(st, "store_id", sw, _STORE_IDS[platform])
        key = (platform, store_id)
        if key in seen:
            raise r.fail(f"{sw}.store_id", f"{platform} store {store_id} is already listed at {seen[key]}")
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
                lookback_days=r.integer(st, "lookback_days", sw, lookback[platform], 0, 90),
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
            raise r.fail(fw, "only file_drop accounts have a file_drop section")
        return None
    section = r.mapping(acc.get("file_drop"), fw)
    r.known_keys(section, fw, {"format", "columns", "date_format", "delimiter"})
    fmt = r.string(section, "format", fw)
    if fmt not in FORMATS:
        raise r.fail(f"{fw}.format", f"{fmt!r} is not one of {', '.join(FORMATS)}")
    columns = r.mapping(section.get("columns"), f"{fw}.columns")
    r.known_keys(columns, f"{fw}.columns", set(FIELDS))
    for name in REQUIRED_FIELDS:
        r.string(columns, name, f"{fw}.columns")
    mapping = {name: r.string(columns, name, f"{fw}.columns") for name in FIELDS if name in columns}
    delimiter = r.string(section, "delimiter", fw, default=",")
    if len(delimiter) != 1:
        raise r.fail(f"{fw}.delimiter", f"expected one character, got {delimiter!r}")
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
