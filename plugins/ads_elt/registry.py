"""The workspace registry: which workspaces, their accounts and settings.

One declarative YAML file (`config/workspaces.yml` by default, or the path in
`ADS_ELT_REGISTRY`). It is validated in full before a run writes anything; the
first problem found stops the run with a `RegistryError` that names the field
(`workspaces[1].accounts[0].platform`) and what was wrong. Secrets never live
here: an account names the Airflow Connection that holds its credentials.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_REGISTRY = REPO_ROOT / "config" / "workspaces.yml"

# Platforms with an extractor, and their default lookback (days re-pulled each run
# because the platform restates them).
PLATFORM_LOOKBACK_DAYS = {"meta": 28, "google_ads": 14}
PLATFORMS = tuple(PLATFORM_LOOKBACK_DAYS)
DEFAULT_CONNECTIONS = {p: f"{p}_default" for p in PLATFORMS}

_ID = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
_ACCOUNT_ID = re.compile(r"^[0-9]{1,20}$")
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


@dataclass(frozen=True)
class Registry:
    path: str
    initial_history_days: int
    workspaces: tuple[Workspace, ...]

    def accounts(self, platform: str | None = None) -> list[Account]:
        return [a for w in self.workspaces for a in w.accounts if platform is None or a.platform == platform]

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
        r.known_keys(ws, where, {"id", "name", "currency", "timezone", "dashboard_url", "alerts", "accounts"})
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
        r.known_keys(alerts, f"{where}.alerts", {"slack_connection"})
        slack = r.string(alerts, "slack_connection", f"{where}.alerts", _CONN_ID, default=None)
        raw_accounts = ws.get("accounts")
        if not isinstance(raw_accounts, list) or not raw_accounts:
            raise r.fail(f"{where}.accounts", "expected a non-empty list of accounts")
        accounts = []
        for j, raw_acc in enumerate(raw_accounts):
            aw = f"{where}.accounts[{j}]"
            acc = r.mapping(raw_acc, aw)
            r.known_keys(acc, aw, {"platform", "account_id", "connection", "currency", "timezone", "name", "lookback_days"})
            platform = r.string(acc, "platform", aw)
            if platform not in PLATFORMS:
                raise r.fail(f"{aw}.platform", f"{platform!r} is not one of {', '.join(PLATFORMS)}")
            account_id = r.string(acc, "account_id", aw, _ACCOUNT_ID)
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
                accounts=tuple(accounts),
            )
        )
    return Registry(path=source, initial_history_days=history, workspaces=tuple(workspaces))


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
