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
from collections.abc import Iterable
from datetime import UTC, date, datetime
from typing import Any

from ads_elt.registry import REPO_ROOT

MANIFEST = "manifest.json"


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


def read_pages(directory, manifest: dict[str, Any]) -> Iterable[tuple[str, bytes]]:
    for name in manifest["pages"]:
        yield name, (directory / name).read_bytes()
