"""What every part of the registry's parser shares: the platforms it knows, the id patterns, the error it raises
and the reader that collects every problem with its field."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from adapters import PLATFORMS as CATALOGUE
from adapters import ad_platforms, store_platforms
from adapters.catalogue import DIGITS_ACCOUNT_ID
from adapters.stores import STORE_LOOKBACK_DAYS  # noqa: F401 - a store's default lookback when its spec has none

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_REGISTRY = REPO_ROOT / "config" / "workspaces.yml"

# Every platform of the catalogue (adapters/<platform>/ SPEC) with its default lookback: days re-pulled
# each run because the platform restates them (a store re-pulls its orders by update time over its
# lookback: refunds, cancellations).
PLATFORM_LOOKBACK_DAYS = {name: spec.lookback_days for name, spec in CATALOGUE.items()}
AD_PLATFORMS = ad_platforms()
STORE_PLATFORMS = store_platforms()
PLATFORMS = (*AD_PLATFORMS, *STORE_PLATFORMS)
DEFAULT_CONNECTIONS = {p: f"{p}_default" for p in AD_PLATFORMS}
STORE_ID_PATTERNS = {p: re.compile(CATALOGUE[p].account_id_pattern) for p in STORE_PLATFORMS if CATALOGUE[p].account_id_pattern}

ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
ACCOUNT_ID_PATTERN = re.compile(DIGITS_ACCOUNT_ID)
# Each ad platform's account ids: digits unless its spec says otherwise (Snapchat's UUIDs, a file drop's name).
ACCOUNT_ID_PATTERNS = {p: re.compile(CATALOGUE[p].account_id_regex) for p in AD_PLATFORMS}
CURRENCY_PATTERN = re.compile(r"^[A-Z]{3}$")
CONN_ID_PATTERN = re.compile(r"^[A-Za-z0-9_.\-]{1,250}$")
URL_FIELDS = {"workspace_id", "platform", "campaign_id", "date"}


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


class Reader:
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
            raise RegistryError(
                f"{self.source}: {len(self.problems)} problems:\n" + "\n".join(self.problems), list(self.problems)
            )

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
