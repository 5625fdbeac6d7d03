"""A load killed mid-COPY (SIGKILL, not an exception) leaves the old rows of its window and the old sync state."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import psycopg2
from test_loader_stream import CAMPAIGNS, DAYS, meta_batch

from ads_elt.ingestion.loader import load_batch
from ads_elt.warehouse import ensure_schema

REPO = Path(__file__).resolve().parents[1]


def batch(spend: str, run_id: str) -> tuple[dict, list]:
    return meta_batch(spend, run_id)


CHILD = textwrap.dedent(
    """
    import json, sys, time
    import psycopg2
    from ads_elt.ingestion import loader, raw_batch

    dsn, marker = sys.argv[1], sys.argv[2]
    manifest, body = json.load(open(sys.argv[3])), open(sys.argv[4], "rb").read()

    real_copy = raw_batch.copy_rows
    def stalling_copy(cur, table, rows):
        # Hands COPY its first chunk of rows, then never finishes: the server holds a half-sent COPY.
        chunks = iter(rows.copy_text_chunks() if isinstance(rows, raw_batch.PreparedBatch) else rows)
        def stalled():
            yield next(chunks)
            open(marker, "w").close()
            time.sleep(600)
        real_copy(cur, table, raw_batch.CopyText(stalled()))
    raw_batch.copy_rows = stalling_copy
    loader.load_batch(psycopg2.connect(dsn), manifest, [("page-00001.json", body)])
    """
)


def test_a_load_killed_mid_copy_leaves_the_old_rows(pg_db, tmp_path):
    server, dbname = pg_db
    dsn = server.dsn(dbname)
    conn = psycopg2.connect(dsn)
    ensure_schema(conn)
    manifest, pages = batch("1.00", "old_run")
    load_batch(conn, manifest, pages)

    def snapshot():
        with conn.cursor() as cur:
            cur.execute("select count(*), min(payload->>'spend'), max(payload->>'spend'), min(sync_run_id), max(sync_run_id) from raw.meta__insights")
            raw = cur.fetchone()
            cur.execute("select status, last_success_window_end, last_error from ops.sync_state")
            state = cur.fetchall()
        conn.commit()
        return raw, state

    before = snapshot()
    assert before[0] == (DAYS * CAMPAIGNS, "1.00", "1.00", "old_run", "old_run")

    new_manifest, new_pages = batch("2.00", "new_run")
    marker = tmp_path / "copy-started"
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO), str(REPO / "plugins")]), "GX_ANALYTICS_ENABLED": "False"}
    (tmp_path / "manifest.json").write_text(json.dumps(new_manifest))
    (tmp_path / "page.json").write_bytes(new_pages[0][1])
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, dsn, str(marker), str(tmp_path / "manifest.json"), str(tmp_path / "page.json")],
        env=env,
        cwd=REPO,
    )
    try:
        deadline = time.monotonic() + 120
        while not marker.exists():
            assert child.poll() is None, "the load finished or died before its COPY"
            assert time.monotonic() < deadline, "the load never reached its COPY"
            time.sleep(0.1)
        with conn.cursor() as cur:  # the server is inside the COPY of the new rows
            cur.execute("select count(*) from pg_stat_activity where query ilike 'copy %%raw%%meta__insights%%' and state = 'active'")
            assert cur.fetchone()[0] == 1
        conn.commit()
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=10)
    finally:
        if child.poll() is None:
            child.kill()
    # The server notices the dead client and rolls the transaction back.
    deadline = time.monotonic() + 30
    while True:
        with conn.cursor() as cur:
            cur.execute("select count(*) from pg_stat_activity where query ilike 'copy %%raw%%meta__insights%%'")
            busy = cur.fetchone()[0]
        conn.commit()
        if not busy or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert snapshot() == before
    # And the rerun of the killed batch completes and replaces the window exactly once.
    load_batch(conn, new_manifest, new_pages)
    assert snapshot()[0] == (DAYS * CAMPAIGNS, "2.00", "2.00", "new_run", "new_run")
    conn.close()
