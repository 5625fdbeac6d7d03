"""The load benchmark measures what it says: comparable loads, each side's upkeep kept out of the other's time.

Only what the figure is made of is checked here (the rows each side wrote, the
re-load, the report's keys); its speed is the benchmark's business (`make bench`).
"""

from __future__ import annotations

import bench
import psycopg2
import pytest


def _databases(cluster, prefix: str) -> list[str]:
    conn = psycopg2.connect(cluster.dsn("postgres"))
    try:
        with conn.cursor() as cur:
            cur.execute("select datname from pg_database where datname like %s", (prefix + "%",))
            return [name for (name,) in cur.fetchall()]
    finally:
        conn.close()


def test_load_figure_times_first_loads_against_copy_and_reports_the_reload(pg_server, tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "OUT", tmp_path)
    before = set(_databases(pg_server.cluster, "bench_load"))
    # Every timed load must find an empty window (rows_replaced 0) and the re-load every row
    # (rows_replaced == rows): figure_load asserts both and raises otherwise.
    figures = bench.figure_load(pg_server.cluster, rows=2 * 730, repeats=2)

    n = figures["load_rows"]
    assert n == sum(figures["load_rows_by_table"].values()) > 2 * 730  # the campaign and the ad-group report
    assert set(figures["load_rows_by_table"]) == {"google_ads__campaign_performance", "google_ads__ad_group_performance"}
    assert len(figures["load_loader_seconds"]) == len(figures["load_copy_seconds"]) == 2
    # The best of each side (the report rounds the seconds to milliseconds: a tolerance for that).
    best_load, best_copy = min(figures["load_loader_seconds"]), min(figures["load_copy_seconds"])
    assert figures["load_vs_copy"] == pytest.approx(best_copy / best_load, rel=0.03)
    assert figures["load_reload_vs_copy"] == pytest.approx(best_copy / figures["load_reload_seconds"], rel=0.03)

    (dbname,) = set(_databases(pg_server.cluster, "bench_load")) - before
    conn = psycopg2.connect(pg_server.cluster.dsn(dbname))
    try:
        with conn.cursor() as cur:
            for table, rows in figures["load_rows_by_table"].items():
                cur.execute(f"select count(*) from raw.{table}")
                assert cur.fetchone()[0] == rows, table  # the re-load left the batch once, not twice
                cur.execute(f"select count(*) from public.copy_{table}")
                assert cur.fetchone()[0] == rows, table
            # Each side's new rows were vacuumed and analysed outside the timings (settle).
            cur.execute(
                "select relname from pg_stat_user_tables where relname = any(%s) and (last_vacuum is null or last_analyze is null)",
                ([f"copy_{t}" for t in figures["load_rows_by_table"]] + list(figures["load_rows_by_table"]),),
            )
            assert cur.fetchall() == []
    finally:
        conn.close()


def test_stream_figure_drains_every_message_and_copies_the_same_rows(pg_server, tmp_path, monkeypatch):
    monkeypatch.setattr(bench, "OUT", tmp_path)
    before = set(_databases(pg_server.cluster, "bench_stream"))
    figures = bench.figure_stream(pg_server.cluster, days=1)

    assert figures["stream_batch_size"] == 10
    assert figures["stream_messages"] == figures["stream_rows"] > 200  # every message one distinct record: no faults published
    assert figures["stream_msgs_per_s"] == pytest.approx(figures["stream_messages"] / figures["stream_drain_seconds"], rel=0.02)
    (dbname,) = set(_databases(pg_server.cluster, "bench_stream")) - before
    conn = psycopg2.connect(pg_server.cluster.dsn(dbname))
    try:
        with conn.cursor() as cur:
            counts = []
            for table in ("amazon_stream__sp_traffic", "amazon_stream__sp_conversion"):
                cur.execute(f"select (select count(*) from raw.{table}), (select count(*) from public.copy_{table})")
                counts.append(cur.fetchone())
    finally:
        conn.close()
    assert all(raw == copied for raw, copied in counts) and sum(raw for raw, _ in counts) == figures["stream_rows"]


class _Recorder:
    """A plain HTTP server that records each request's path and Authorization header."""

    def __init__(self):
        import threading
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        seen = self.seen = []

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                seen.append((self.path, self.headers.get("Authorization")))
                status = 500 if "broken" in self.path else 200
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def recorder():
    server = _Recorder()
    yield server
    server.close()


def test_api_load_generator_sends_the_token_and_asks_each_cold_question_once(recorder):
    import api_load

    paths = [f"/v1/workspaces/w/kpis?from=2025-01-{d:02d}&to=2025-02-{d:02d}&n={n}" for d in range(1, 29) for n in range(400)]
    measured = api_load.run(recorder.url, "tok-123", paths, connections=8, seconds=1)
    assert 0 < measured["requests"] <= len(recorder.seen)
    assert {auth for _, auth in recorder.seen} == {"Bearer tok-123"}
    asked = [path for path, _ in recorder.seen]
    assert len(set(asked)) == len(asked)  # a cold run never asks the same question twice
    assert set(asked) <= set(paths)
    assert measured["p50_ms"] <= measured["p95_ms"] <= measured["p99_ms"]
    assert measured["requests_per_s"] == pytest.approx(measured["requests"] / measured["seconds"], rel=0.01)


def test_api_load_generator_fails_on_errors_and_on_repeated_cold_questions(recorder):
    import api_load

    with pytest.raises(RuntimeError, match="were not 200"):
        api_load.run(recorder.url, "t", ["/broken"], connections=2, seconds=1)
    with pytest.raises(RuntimeError, match="distinct paths"):
        api_load.run(recorder.url, "t", ["/a", "/b"], connections=2, seconds=1)
    with pytest.raises(ValueError, match="plain ASCII"):
        api_load.run(recorder.url, 't"; os.exit()', ["/a"], connections=2, seconds=1)
