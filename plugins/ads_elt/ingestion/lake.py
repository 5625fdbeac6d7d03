"""The raw landing zone: API responses stored untouched, partitioned by run date.

    <root>/<platform>/<report>/date=<run date>/<workspace_id>/<account_id>/<sync_run_id>/
        page-00001.json ...   response bodies exactly as received
        manifest.json         what was asked for and what came back

The root is an Airflow ObjectStoragePath (`ADS_ELT_LAKE_ROOT`), so a local
folder (`file:///...`) and object storage (`s3://bucket/lake`) are one code path.
Extract writes here; load reads from here, so a failed load retries without
calling the API again.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from ads_elt.registry import REPO_ROOT

MANIFEST = "manifest.json"


@dataclass(frozen=True)
class LakeManifest:
    """A batch's manifest.json, typed: which account, report and window its pages answer, and what came back.

    The file (and the XCom that points at it) stays plain JSON; the loader takes it in as a `LakeManifest`
    (`LakeManifest.of`), so a batch without a field the load needs, or with a malformed window, fails there,
    naming the field. What an extract records beyond these (the requests, a file drop's files and format,
    Amazon's report ids) is kept in `extra`, untouched.
    """

    platform: str
    report: str
    workspace_id: str
    account_id: str
    window_start: date
    window_end: date
    sync_run_id: str
    extracted_at: str = ""
    timezone: str | None = None
    pages: tuple[str, ...] = ()
    record_count: int | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    REQUIRED = ("platform", "report", "workspace_id", "account_id", "window_start", "window_end", "sync_run_id")

    @classmethod
    def of(cls, value: LakeManifest | Mapping[str, Any]) -> LakeManifest:
        if isinstance(value, cls):
            return value
        missing = [k for k in cls.REQUIRED if value.get(k) in (None, "")]
        if missing:
            raise ValueError(f"lake manifest of {value.get('platform')} account {value.get('account_id')}: missing {', '.join(missing)}")
        window = {}
        for name in ("window_start", "window_end"):
            try:
                window[name] = value[name] if isinstance(value[name], date) else date.fromisoformat(value[name])
            except (TypeError, ValueError):
                raise ValueError(f"lake manifest of {value['platform']} account {value['account_id']}: {name} {value[name]!r} is not a date") from None
        known = {*cls.REQUIRED, "extracted_at", "timezone", "pages", "record_count"}
        return cls(
            **{k: str(value[k]) for k in ("platform", "report", "workspace_id", "account_id", "sync_run_id")},
            **window,
            extracted_at=str(value.get("extracted_at") or ""),
            timezone=value.get("timezone"),
            pages=tuple(value.get("pages") or ()),
            record_count=value.get("record_count"),
            extra={k: v for k, v in value.items() if k not in known},
        )

    @property
    def account(self) -> str:
        """How messages name the batch's account: platform account id (workspace)."""
        return f"{self.platform} account {self.account_id} ({self.workspace_id})"

    def params(self, **more: Any) -> dict[str, Any]:
        """The account, report and window as SQL parameters (the same names as a sync scope's), with `more`."""
        return {
            "platform": self.platform, "report": self.report, "workspace_id": self.workspace_id, "account_id": self.account_id,
            "window_start": self.window_start, "window_end": self.window_end, "sync_run_id": self.sync_run_id, **more,
        }  # fmt: skip


def lake_root():
    from airflow.sdk import ObjectStoragePath

    root = os.environ.get("ADS_ELT_LAKE_ROOT") or f"file://{REPO_ROOT / '.local' / 'lake'}"
    return ObjectStoragePath(root)


def path_part(part: str) -> str:
    """Path-safe form of a run id or key (run ids contain ':' and '+')."""
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", part)


def batch_dir(platform: str, report: str, run_date: date, workspace_id: str, account_id: str, sync_run_id: str):
    return (
        lake_root()
        / platform
        / report
        / f"date={run_date.isoformat()}"
        / path_part(workspace_id)
        / path_part(account_id)
        / path_part(sync_run_id)
    )


def write_batch(directory, pages: Iterable[Any], manifest: dict[str, Any]) -> dict[str, Any]:
    """Write each page body untouched, then the manifest last (its presence marks a complete batch)."""
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():  # a retried extract replaces its own earlier attempt
        old.unlink()
    names, records, requests = [], 0, []
    for i, page in enumerate(pages, start=1):
        name = f"page-{i:05d}.json"
        (directory / name).write_bytes(page.body)
        names.append(name)
        records += len(page.records)
        requests.append(page.request)
    manifest = {
        **manifest,
        "pages": names,
        "requests": requests,
        "record_count": records,
        "extracted_at": datetime.now(UTC).isoformat(),
    }
    (directory / MANIFEST).write_text(json.dumps(manifest, indent=2, default=str))
    return manifest


def read_manifest(uri: str) -> tuple[Any, dict[str, Any]]:
    from airflow.sdk import ObjectStoragePath

    directory = ObjectStoragePath(uri)
    path = directory / MANIFEST
    if not path.exists():
        raise FileNotFoundError(f"no {MANIFEST} in {uri}: the extract did not complete")
    return directory, json.loads(path.read_text())


def read_pages(directory, manifest: LakeManifest) -> Iterable[tuple[str, bytes]]:
    for name in manifest.pages:
        yield name, (directory / name).read_bytes()
