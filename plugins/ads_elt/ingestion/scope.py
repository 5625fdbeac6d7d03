"""A sync scope, typed: one account's window for one run, from `plan` to `extract` (and the Amazon Ads operator).

XCom carries plain JSON, dates as ISO strings (`to_xcom`); a task turns it back into a `SyncScope` where it
starts (`SyncScope.of`), so everything between reads dates and named fields, not string keys. A scope from
XCom that lacks a field or carries a malformed date fails at that boundary, naming the field.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from datetime import date
from typing import Any

_DATES = ("window_start", "window_end", "run_date")


@dataclass(frozen=True)
class SyncScope:
    platform: str
    workspace_id: str
    account_id: str
    connection: str | None
    timezone: str | None
    window_start: date
    window_end: date
    run_date: date
    sync_run_id: str

    @property
    def label(self) -> str:
        """How the Airflow UI names the mapped task: workspace / account."""
        return f"{self.workspace_id} / {self.account_id}"

    def to_xcom(self) -> dict[str, str | None]:
        return {k: v.isoformat() if isinstance(v, date) else v for k, v in asdict(self).items()}

    def params(self, **more: Any) -> dict[str, Any]:
        """The scope's fields as SQL parameters (dates as dates), with `more`."""
        return {**asdict(self), **more}

    @classmethod
    def of(cls, value: SyncScope | Mapping[str, Any]) -> SyncScope:
        """The scope itself, or one from its XCom form."""
        if isinstance(value, cls):
            return value
        names = [f.name for f in fields(cls)]
        missing = [n for n in names if n not in value and n not in ("connection", "timezone")]
        if missing:
            raise ValueError(f"sync scope {dict(value)!r}: missing {', '.join(missing)}")
        out: dict[str, Any] = {n: value.get(n) for n in names}
        for name in _DATES:
            raw = out[name]
            try:
                out[name] = raw if isinstance(raw, date) else date.fromisoformat(raw)
            except (TypeError, ValueError):
                raise ValueError(f"sync scope of {value.get('platform')} account {value.get('account_id')}: {name} {raw!r} is not a date") from None
        return cls(**out)
