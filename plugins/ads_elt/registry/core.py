"""The registry's workspaces, accounts and stores: parsed and validated in full (`parse_registry`,
`load_registry`), and the sync window of an account."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from adapters import PLATFORMS as CATALOGUE
from ads_elt.registry.alerting import ALERT_CHANNEL_KEYS, ALERTING_SECTIONS, WorkspaceAlerting, parse_alerting
from ads_elt.registry.base import (
    ACCOUNT_ID_PATTERN,
    ACCOUNT_ID_PATTERNS,
    AD_PLATFORMS,
    CONN_ID_PATTERN,
    CURRENCY_PATTERN,
    DEFAULT_CONNECTIONS,
    DEFAULT_REGISTRY,
    ID_PATTERN,
    PLATFORM_LOOKBACK_DAYS,
    PLATFORMS,
    STORE_ID_PATTERNS,
    STORE_LOOKBACK_DAYS,
    STORE_PLATFORMS,
    URL_FIELDS,
    Reader,
    RegistryError,
    nearest,
)


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


def normalise_account_id(platform: str | None, value: Any) -> Any:
    """An account id as the platform's UI shows it, as its API takes it: `123-456-7890` (Google Ads), `act_123` (Meta)."""
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str):
        return value
    value = value.strip()
    spec = CATALOGUE.get(platform) if platform else None
    if spec is not None and spec.account_id_from_ui is not None:
        return spec.account_id_from_ui(value)
    return value


def parse_registry(data: Any, source: str = "<registry>") -> Registry:
    """The registry from parsed YAML; raises RegistryError listing every problem found."""
    r = Reader(source)
    registry = _parse(r, data)
    r.raise_problems()
    return registry


def _parse(r: Reader, data: Any) -> Registry:
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
        ws_keys = {
            "id",
            "name",
            "currency",
            "timezone",
            "dashboard_url",
            "alerts",
            "accounts",
            "stores",
            "attribution_window_days",
        }
        r.known_keys(ws, where, {*ws_keys, *ALERTING_SECTIONS})
        ws_id = r.string(ws, "id", where, ID_PATTERN)
        if ws_id is not None and ws_id in seen_ws:
            r.error(f"{where}.id", f"duplicate workspace id {ws_id!r}")
        seen_ws.add(ws_id)
        currency = r.string(ws, "currency", where, CURRENCY_PATTERN)
        tz = r.timezone(ws, "timezone", where)
        url = r.string(ws, "dashboard_url", where, default="") or ""
        if url:
            placeholders = set(re.findall(r"{(\w+)}", url))
            if not url.startswith(("http://", "https://")):
                r.error(f"{where}.dashboard_url", "must be an http(s) URL")
            elif placeholders - URL_FIELDS:
                bad = min(placeholders - URL_FIELDS)
                r.error(
                    f"{where}.dashboard_url",
                    f"unknown placeholder {{{bad}}} (allowed: {', '.join(sorted(URL_FIELDS))}){nearest(bad, URL_FIELDS)}",
                )
        alerts = r.mapping(ws.get("alerts") or {}, f"{where}.alerts")
        r.known_keys(alerts, f"{where}.alerts", {"slack_connection", *ALERT_CHANNEL_KEYS})
        slack = r.string(alerts, "slack_connection", f"{where}.alerts", CONN_ID_PATTERN, default=None)
        raw_accounts = ws.get("accounts")
        if not isinstance(raw_accounts, list) or not raw_accounts:
            r.error(f"{where}.accounts", "expected a non-empty list of accounts")
            raw_accounts = []
        accounts = []
        for j, raw_acc in enumerate(raw_accounts):
            aw = f"{where}.accounts[{j}]"
            acc = r.mapping(raw_acc, aw)
            r.known_keys(
                acc, aw, {"platform", "account_id", "connection", "currency", "timezone", "name", "lookback_days", "file_drop"}
            )
            hint = " (stores go under `stores`)" if acc.get("platform") in STORE_PLATFORMS else ""
            platform = r.choice(acc, "platform", aw, AD_PLATFORMS, hint)
            if "account_id" in acc:
                acc = {**acc, "account_id": normalise_account_id(platform, acc["account_id"])}
            # (an unknown platform's account id is not checked: its format depends on the platform)
            account_id = r.string(
                acc, "account_id", aw, ACCOUNT_ID_PATTERNS.get(platform, ACCOUNT_ID_PATTERN) if platform else None
            )
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
                    connection=r.string(acc, "connection", aw, CONN_ID_PATTERN, default=DEFAULT_CONNECTIONS.get(platform)),
                    currency=r.string(acc, "currency", aw, CURRENCY_PATTERN, default=currency),
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


def parse_stores(
    r: Reader, ws: dict, where: str, ws_id: str, currency: str, tz: str, lookback: dict, seen: dict
) -> tuple[Account, ...]:
    """A workspace's ``stores`` list: platform, store_id, connection (required), currency, timezone, lookback_days, name."""
    stores = []
    fields = {"platform", "store_id", "connection", "currency", "timezone", "name", "lookback_days"}
    for sw, st in r.entries(ws, "stores", where, "stores", fields):
        platform = r.choice(st, "platform", sw, STORE_PLATFORMS)
        store_id = r.string(st, "store_id", sw, STORE_ID_PATTERNS.get(platform))
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
                connection=r.string(st, "connection", sw, CONN_ID_PATTERN),
                currency=r.string(st, "currency", sw, CURRENCY_PATTERN, default=currency),
                timezone=r.timezone(st, "timezone", sw, default=tz),
                name=r.string(st, "name", sw, default=f"{platform} {store_id}"),
                lookback_days=r.integer(st, "lookback_days", sw, lookback.get(platform, STORE_LOOKBACK_DAYS), 0, 90),
            )
        )
    return tuple(stores)


def parse_file_drop(r: Reader, acc: dict, where: str, platform: str) -> Any:
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


def sync_window(account: Account, run_date: date, last_success_end: date | None, initial_history_days: int) -> tuple[date, date]:
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
