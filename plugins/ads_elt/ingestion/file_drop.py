"""File drops: CSV/JSON exports a merchant drops into the workspace's inbox folder.

    <inbox root>/<workspace_id>/<account_id>/*.csv|*.json     waiting files
    <inbox root>/<workspace_id>/<account_id>/processed/       loaded (or already loaded) files
    <inbox root>/<workspace_id>/<account_id>/rejected/        unreadable files, each with <name>.reason.txt

The root is ``ADS_ELT_FILE_DROP_ROOT`` (default ``.local/inbox``). ``extract``
copies each new file, untouched, into the lake; ``load`` parses it with the
account's column mapping (registry ``file_drop``), appends its good rows to
``raw.file_drop__performance``, puts each bad row in ``ops.quarantine`` with its
line number and reason, and records the file's content hash in
``ops.file_drop_files`` (created with the other ops tables) in the same transaction. A file whose hash is already
recorded is never loaded again (renamed or dropped twice: nothing changes). Files
leave the inbox only after their load committed, so a failed load loses nothing.
The latest file wins for a campaign-day (staging keeps the latest extraction).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ads_elt.ingestion import sync_state
from ads_elt.ingestion.lake import LakeManifest
from ads_elt.ingestion.scope import SyncScope
from ads_elt.registry import REPO_ROOT, load_registry
from ads_elt.warehouse.db import connect

log = logging.getLogger(__name__)

PLATFORM = "file_drop"
REPORT = "performance"
RAW_TABLE = "file_drop__performance"
SUFFIXES = {".csv": "csv", ".json": "json"}



def inbox_root() -> Path:
    return Path(os.environ.get("ADS_ELT_FILE_DROP_ROOT") or REPO_ROOT / ".local" / "inbox")


def account_inbox(workspace_id: str, account_id: str, root: Path | None = None) -> Path:
    return (root or inbox_root()) / workspace_id / account_id


def waiting_files(folder: Path) -> list[Path]:
    """Files waiting in an inbox folder, oldest first (hidden and partial files are skipped)."""
    if not folder.is_dir():
        return []
    files = [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in SUFFIXES]
    return sorted(files, key=lambda p: (p.stat().st_mtime, p.name))


def sha256(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def known_hashes(conn, workspace_id: str, account_id: str) -> set[str]:
    with conn.cursor() as cur:
        cur.execute(
            "select content_sha256 from ops.file_drop_files where workspace_id = %s and account_id = %s", (workspace_id, account_id)
        )
        return {h for (h,) in cur.fetchall()}


def _move(path: Path, folder_name: str) -> Path:
    target_dir = path.parent / folder_name
    target_dir.mkdir(exist_ok=True)
    target = target_dir / path.name
    if target.exists():
        target = target_dir / f"{path.stem}-{datetime.now(UTC):%Y%m%dT%H%M%S%f}{path.suffix}"
    shutil.move(str(path), str(target))
    return target


def extract(scope: SyncScope | dict[str, Any], root: Path | None = None) -> dict[str, Any]:
    """Copy the account's new files into the lake; files already loaded go to ``processed/``."""
    from ads_elt.ingestion import lake

    scope = SyncScope.of(scope)
    account = _account(scope)
    folder = account_inbox(scope.workspace_id, scope.account_id, root)
    with connect(role="loader") as conn:
        sync_state.record_attempt(conn, scope)
        seen = known_hashes(conn, scope.workspace_id, scope.account_id)
    directory = lake.batch_dir(PLATFORM, REPORT, scope.run_date, scope.workspace_id, scope.account_id, scope.sync_run_id)
    directory.mkdir(parents=True, exist_ok=True)
    for old in directory.iterdir():
        old.unlink()
    files = []
    for path in waiting_files(folder):
        content = path.read_bytes()
        digest = sha256(content)
        if digest in seen or digest in {f["sha256"] for f in files}:
            log.info("%s: %s was loaded before (same content): not loading it again", folder, path.name)
            _move(path, "processed")
            continue
        stored = f"{len(files) + 1:05d}-{path.name}"
        (directory / stored).write_bytes(content)  # the file untouched
        files.append({"name": path.name, "stored_as": stored, "sha256": digest, "bytes": len(content), "inbox_path": str(path)})
    manifest = {
        "platform": PLATFORM,
        "report": REPORT,
        "workspace_id": scope.workspace_id,
        "account_id": scope.account_id,
        "window_start": scope.window_start.isoformat(),
        "window_end": scope.window_end.isoformat(),
        "sync_run_id": scope.sync_run_id,
        "extracted_at": datetime.now(UTC).isoformat(),
        "file_format": account.file_drop.to_dict(),
        "files": files,
        "pages": [],
        "record_count": None,
    }
    (directory / lake.MANIFEST).write_text(json.dumps(manifest, indent=2))
    log.info("%s %s: %d new file(s) -> %s", PLATFORM, scope.account_id, len(files), directory)
    return {"uri": str(directory), "platform": PLATFORM, "account_id": scope.account_id, "files": len(files)}


def _account(scope: SyncScope):
    for account in load_registry().accounts(PLATFORM):
        if account.workspace_id == scope.workspace_id and account.account_id == scope.account_id:
            return account
    raise KeyError(f"file_drop account {scope.workspace_id}/{scope.account_id} is not in the registry")


def load(batch: dict[str, Any]) -> dict[str, Any]:
    from ads_elt.ingestion import lake

    directory, raw = lake.read_manifest(batch["uri"])
    manifest = lake.LakeManifest.of(raw)
    files = manifest.extra["files"]
    contents = {f["stored_as"]: (directory / f["stored_as"]).read_bytes() for f in files}
    with connect(role="loader") as conn:
        result = load_files(conn, manifest, contents)
    for f in files:
        path = Path(f["inbox_path"])
        if path.exists():
            moved = _move(path, "rejected" if f["sha256"] in result["rejected"] else "processed")
            if f["sha256"] in result["rejected"]:
                moved.with_name(moved.name + ".reason.txt").write_text(result["rejected"][f["sha256"]] + "\n")
    return {k: v for k, v in result.items() if k != "rejected"} | {"files_rejected": len(result["rejected"])}


def load_files(conn, manifest: LakeManifest, contents: dict[str, bytes]) -> dict[str, Any]:
    """Parse and load every file of a batch in one transaction (see the module docstring)."""
    from psycopg2.extras import execute_values

    from adapters.file_drop import FileDropFormat, parse_file

    spec = FileDropFormat.from_dict(manifest.extra["file_format"])
    ws, acct, run = manifest.workspace_id, manifest.account_id, manifest.sync_run_id
    loaded = quarantined = 0
    rejected: dict[str, str] = {}
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext(%s))", (f"{PLATFORM}|{ws}|{acct}",))
        for f in manifest.extra["files"]:
            cur.execute(
                "select 1 from ops.file_drop_files where workspace_id = %s and account_id = %s and content_sha256 = %s",
                (ws, acct, f["sha256"]),
            )
            if cur.fetchone():
                continue  # loaded by an earlier attempt of this batch or another run
            parsed = parse_file(f["name"], contents[f["stored_as"]], spec)
            if parsed.error:
                rejected[f["sha256"]] = parsed.error
                _quarantine(cur, manifest, f["name"], None, parsed.error, None)
            days = parsed.days
            if parsed.rows:
                execute_values(
                    cur,
                    f"insert into raw.{RAW_TABLE} (workspace_id, account_id, report_date, payload, sync_run_id, window_start, "
                    "window_end, extracted_at) values %s",
                    [
                        (ws, acct, row["date"], json.dumps({**row, "file": f["name"]}), run, days[0], days[-1], manifest.extracted_at)
                        for row in parsed.rows
                    ],
                )
            for bad in parsed.bad_rows:
                _quarantine(cur, manifest, f["name"], bad.line_number, bad.reason, bad.raw)
            cur.execute(
                "insert into ops.file_drop_files (content_sha256, workspace_id, account_id, file_name, status, rows_loaded, "
                "rows_quarantined, reason, sync_run_id) values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    f["sha256"],
                    ws,
                    acct,
                    f["name"],
                    "rejected" if parsed.error else "loaded",
                    len(parsed.rows),
                    len(parsed.bad_rows),
                    parsed.error,
                    run,
                ),
            )
            loaded += len(parsed.rows)
            quarantined += len(parsed.bad_rows)
        sync_state.record_success(cur, manifest, loaded)
    conn.commit()
    result = {
        "platform": PLATFORM,
        "workspace_id": ws,
        "account_id": acct,
        "files": len(manifest.extra["files"]),
        "rows_loaded": loaded,
        "rows_quarantined": quarantined,
        "rejected": rejected,
    }
    log.info("file drop loaded: %s", result)
    return result


def _quarantine(cur, manifest: LakeManifest, source: str, line_number: int | None, reason: str, payload: str | None) -> None:
    cur.execute(
        "insert into ops.quarantine (platform, report, workspace_id, account_id, sync_run_id, source, line_number, reason, payload) "
        "values (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
        (PLATFORM, REPORT, manifest.workspace_id, manifest.account_id, manifest.sync_run_id, source, line_number, reason, payload),
    )
