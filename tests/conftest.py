"""Shared fixtures: a throwaway PostgreSQL cluster for the whole test session."""

from __future__ import annotations

import sys
import tempfile
import uuid
from pathlib import Path

import psycopg2
import pytest

REPO = Path(__file__).resolve().parents[1]
for p in (REPO, REPO / "plugins", REPO / "scripts"):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

from localpg import Cluster  # noqa: E402

pytest_plugins = ("sandbox_clients",)


class PgServer:
    def __init__(self, cluster: Cluster):
        self.cluster = cluster
        self.host = "127.0.0.1"
        self.port = cluster.port
        self.user = "postgres"
        self.password = cluster.password

    def dsn(self, dbname: str = "postgres") -> str:
        return self.cluster.dsn(dbname)

    def create_database(self, prefix: str = "t") -> str:
        name = f"{prefix}_{uuid.uuid4().hex[:10]}"
        conn = psycopg2.connect(self.dsn())
        conn.autocommit = True
        with conn.cursor() as cur:
            cur.execute(f'create database "{name}"')
        conn.close()
        return name


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    """Two workers (`-n 2 --dist loadgroup`): a module's tests stay together, a shared world's tests too.

    A test without an `xdist_group` mark joins its module's group, so a module-scoped
    fixture (a dbt build, a scenario) is built on one worker, not on both; the tests of a
    shared world (tests/e2e_worlds.py) carry the world's group across modules.
    """
    if not getattr(config.option, "loadgroup", False):
        return
    for item in items:
        if item.get_closest_marker("xdist_group") is None:
            item.add_marker(pytest.mark.xdist_group(item.module.__name__))


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session):
    """Every test must carry its group in its node id, or each worker would build every world itself.

    pytest-xdist groups by a `@<group>` suffix it adds to the node id; were that to stop
    working (it does with pytest 9), the shared worlds would silently be built twice.
    Stop the run instead.
    """
    if not getattr(session.config.option, "loadgroup", False):
        return
    ungrouped = [item.nodeid for item in session.items if "@" not in item.nodeid]
    if ungrouped:
        raise pytest.UsageError(f"pytest-xdist did not group {len(ungrouped)} test(s) by xdist_group, e.g. {ungrouped[0]}")


@pytest.fixture(scope="session")
def pg_server():
    """A PostgreSQL cluster private to this test session."""
    root = Path(tempfile.mkdtemp(prefix="ads-elt-pg-"))
    cluster = Cluster(root)
    cluster.start()
    try:
        yield PgServer(cluster)
    finally:
        cluster.destroy()


@pytest.fixture
def pg_db(pg_server):
    """A fresh empty database; yields (PgServer, dbname)."""
    name = pg_server.create_database()
    yield pg_server, name


@pytest.fixture
def pg_conn(pg_db):
    server, name = pg_db
    conn = psycopg2.connect(server.dsn(name))
    yield conn
    conn.close()


@pytest.fixture(scope="session")
def demo(pg_server, tmp_path_factory):
    """The demo world after its six DAG runs (tests/e2e_worlds.py); built once per session (or xdist worker)."""
    from e2e_worlds import build_demo_world

    return build_demo_world(pg_server, tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="session")
def small(pg_server, tmp_path_factory):
    """Four Meta and Google Ads accounts after a faulted first sync and a clean run (tests/e2e_worlds.py)."""
    from e2e_worlds import build_small_world

    return build_small_world(pg_server, tmp_path_factory.mktemp("small"))


@pytest.fixture(scope="session")
def crafted_warehouse(pg_server, tmp_path_factory):
    """The crafted alerting world built once (tests/crafted_alerting.py): the rules' and the budget's tests read it."""
    from crafted_alerting import build

    return build(pg_server, tmp_path_factory.mktemp("crafted"))


@pytest.fixture(scope="session")
def reporting_api(demo, tmp_path_factory):
    """The reporting service (api/) on a copy of the demo world's first-run warehouse (tests/api_harness.py)."""
    from api_harness import serve_demo_copy

    server = serve_demo_copy(demo, tmp_path_factory.mktemp("api"))
    yield server
    server.stop()


@pytest.fixture(scope="session")
def local_sqs(tmp_path_factory):
    """moto's server (a local SQS), as `make demo` starts it; yields its URL."""
    from stack import start_sqs

    proc, url = start_sqs(tmp_path_factory.mktemp("sqs"))
    yield url
    proc.terminate()
    proc.wait(timeout=15)


@pytest.fixture(scope="session")
def stream_world(demo, local_sqs, tmp_path_factory):
    """The demo's first-run warehouse with days of Marketing Stream and ads_stream run once (tests/e2e_worlds.py)."""
    from e2e_worlds import build_stream_world

    return build_stream_world(demo, local_sqs, tmp_path_factory.mktemp("stream"))
