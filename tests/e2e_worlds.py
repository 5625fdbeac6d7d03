"""The two end-to-end worlds the test session shares: each is set up once, its DAG runs done once.

A DAG run costs the better part of two minutes (most of it dbt), so the end-to-end
tests do not each run their own. Two worlds, each a session fixture in `conftest.py`
(and an xdist group, so a parallel run builds each on one worker only):

- `demo`: the demo registry on the demo world (11 ad accounts, 5 stores, a file drop,
  90 days), the days of a deployment in a row:
    1. `first`: the first sync of REPORT_DATE, all clean;
    2. `rerun`: the same date again;
    3. `next_day`: three days later (the sandbox's clock moved: platforms restate
       recent days, stores refund and cancel orders, new file drops), while Meta
       account 1000000001 answers garbage;
    4. `offboarded`: that day again, clean, with workspace souq_sa and lumen_eu's
       LinkedIn account removed from the registry;
    5. `returned`: two days later, the LinkedIn account put back;
    6. `bad_registry`: a registry with a misspelled platform (stops before any write).
  The warehouse after each of runs 1-5 is copied to its own database
  (`create database ... template`), so a test reads the state it is about whatever
  ran after it; what lives outside the warehouse (the sandbox's request counters, the
  file-drop inbox) is recorded after the run too.
- `small`: the demo world's four Meta and Google Ads accounts (two workspaces, 30 days):
  a first sync with a fault on every account, then a clean run. The Celery test runs
  the same world on two workers and compares its marts with that clean run's.
"""

from __future__ import annotations

import subprocess
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from e2e_harness import REPO, DagRun, E2EStack, Warehouse, connections_env, copy_database, dbt_cli_env, venv_bin

REPORT_DATE = date(2026, 11, 20)
HISTORY_DAYS = 90  # the demo registry's initial_history_days
SINCE = REPORT_DATE - timedelta(days=HISTORY_DAYS - 1)
FIRST_TODAY = REPORT_DATE + timedelta(days=1)
NEXT_DAY = REPORT_DATE + timedelta(days=3)  # the report date of the run three days later
NEXT_TODAY = NEXT_DAY + timedelta(days=1)
GARBAGE_ACCOUNT = ("meta", "1000000001")  # answers malformed JSON in the next day's run
AMAZON_POLLS_TO_COMPLETE = 3
BAD_PLATFORM = "gogle_ads"
REMOVED_WORKSPACE = "souq_sa"  # offboarded in run 4, with its accounts and stores
REMOVED_ACCOUNT = ("lumen_eu", "linkedin", "508000001")  # removed in run 4, put back in run 5
RETURN_DAY = NEXT_DAY + timedelta(days=2)  # run 5's report date

SMALL_HISTORY_DAYS = 30  # at least the longest lookback (Meta 28): a second run re-pulls nothing the first did not
# Fast retries for the fault run: the HTTP layer's budget and the task retries in seconds, not minutes.
FAST_RETRIES = {
    "ADS_ELT_RETRY_DELAY_SECONDS": "1",
    "ADS_ELT_HTTP_BACKOFF_BASE": "0.05",
    "ADS_ELT_HTTP_BACKOFF_MAX": "0.2",
    "ADS_ELT_HTTP_MAX_TOTAL_WAIT": "5",
}
SMALL_FAULTS = (
    {"platform": "meta", "account_id": "1000000001", "kind": "rate_limited", "count": 1, "retry_after": 600},
    {"platform": "meta", "account_id": "2000000002", "kind": "auth_revoked", "count": None},
    {"platform": "google_ads", "account_id": "1234567890", "kind": "auth_expired", "count": 1},
    {"platform": "google_ads", "account_id": "1234567890", "kind": "bad_data", "count": 1, "variant": "negative_spend", "rows": 2},
    {"platform": "google_ads", "account_id": "2345678901", "kind": "http_500", "count": 2, "status": 503},
    {
        "platform": "google_ads",
        "account_id": "2345678901",
        "kind": "bad_data",
        "count": 1,
        "variant": "spend_without_metrics",
        "day": REPORT_DATE.isoformat(),
    },
)


@dataclass
class Step:
    """One DAG run of a world and the warehouse right after it."""

    run: DagRun
    warehouse: Warehouse

    def query(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self.warehouse.query(sql, params)


@dataclass
class DemoWorld:
    world: object
    stack: E2EStack
    first: Step
    rerun: Step
    next_day: Step
    offboarded: Step
    returned: Step
    bad_registry: DagRun
    bad_registry_path: Path
    amazon_calls_after_first: dict = field(default_factory=dict)
    amazon_downloads_refused_after_first: int = 0
    inbox_after_first: dict[str, list[str]] = field(default_factory=dict)  # "inbox" / "processed" -> file names

    @property
    def live(self) -> Warehouse:
        return Warehouse(self.stack.pg_server, self.stack.dbname)


def inbox_files(stack: E2EStack, workspace: str, account: str) -> dict[str, list[str]]:
    inbox = stack.inbox / workspace / account
    return {"inbox": sorted(p.name for p in inbox.glob("*.csv")), "processed": sorted(p.name for p in (inbox / "processed").glob("*.csv"))}


def build_demo_world(pg_server, home: Path) -> DemoWorld:
    from sandbox.world import World

    world = World.demo(REPORT_DATE)
    stack = E2EStack.start(pg_server, world, home, today=FIRST_TODAY)
    try:
        amazon = stack.sandbox.platform_api("amazon_ads")
        amazon.polls_to_complete = AMAZON_POLLS_TO_COMPLETE
        stack.drop_demo_files(world, SINCE, REPORT_DATE)
        run = stack.run_dag(REPORT_DATE)
        assert run.succeeded, run.output[-8000:]
        first = Step(run, stack.copy_warehouse("first"))
        amazon_calls = dict(amazon.calls)
        amazon_refused = amazon.downloads_with_auth_refused
        inbox = inbox_files(stack, "harbor_uk", "harbor_pinterest")

        run = stack.run_dag(REPORT_DATE)
        rerun = Step(run, stack.copy_warehouse("rerun"))

        stack.admin("POST", "clock", {"today": NEXT_TODAY.isoformat()})
        stack.drop_demo_files(world, FIRST_TODAY, NEXT_DAY)
        platform, account_id = GARBAGE_ACCOUNT
        stack.admin("POST", "faults", {"platform": platform, "account_id": account_id, "kind": "garbage", "count": None})
        try:
            next_run = stack.run_dag(NEXT_DAY)
        finally:
            stack.admin("DELETE", "faults")
        next_day = Step(next_run, stack.copy_warehouse("next_day"))

        offboarding = demo_registry(home / "offboarded.yml", without_workspace=REMOVED_WORKSPACE, without_account=REMOVED_ACCOUNT)
        run = stack.run_dag(NEXT_DAY, ADS_ELT_REGISTRY=str(offboarding))
        offboarded = Step(run, stack.copy_warehouse("offboarded"))

        stack.admin("POST", "clock", {"today": (RETURN_DAY + timedelta(days=1)).isoformat()})
        returning = demo_registry(home / "returned.yml", without_workspace=REMOVED_WORKSPACE)
        run = stack.run_dag(RETURN_DAY, ADS_ELT_REGISTRY=str(returning))
        returned = Step(run, stack.copy_warehouse("returned"))

        bad = home / "bad-registry.yml"
        bad.write_text(returning.read_text().replace("platform: google_ads", f"platform: {BAD_PLATFORM}", 1))
        bad_run = stack.run_dag(RETURN_DAY, ADS_ELT_REGISTRY=str(bad))
    finally:
        stack.stop()
    return DemoWorld(
        world, stack, first, rerun, next_day, offboarded, returned, bad_run, bad, amazon_calls, amazon_refused, inbox
    )


def demo_registry(path: Path, without_workspace: str | None = None, without_account: tuple | None = None) -> Path:
    """The demo registry with one workspace and one account of another workspace taken out."""
    import yaml

    from ads_elt.registry import DEFAULT_REGISTRY

    data = yaml.safe_load(DEFAULT_REGISTRY.read_text())
    data["workspaces"] = [w for w in data["workspaces"] if w["id"] != without_workspace]
    for ws in data["workspaces"]:
        ws["accounts"] = [a for a in ws["accounts"] if (ws["id"], a["platform"], str(a["account_id"])) != without_account]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    return path


@dataclass
class SmallWorld:
    world: object
    stack: E2EStack
    registry: Path
    faulted: Step
    clean: Step
    issued_tokens: list[str]  # access tokens the sandbox handed out in the two runs


def build_small_world(pg_server, home: Path) -> SmallWorld:
    from celery_run import registry_yaml

    from sandbox.world import World

    world = World.demo(REPORT_DATE)
    stack = E2EStack.start(pg_server, world, home, today=FIRST_TODAY)
    try:
        registry = registry_yaml(world, home / "workspaces.yml", SMALL_HISTORY_DAYS)
        stack.env.update(FAST_RETRIES, ADS_ELT_REGISTRY=str(registry))
        for fault in SMALL_FAULTS:
            stack.admin("POST", "faults", fault)
        try:
            run = stack.run_dag(REPORT_DATE)
        finally:
            stack.admin("DELETE", "faults")
        faulted = Step(run, stack.copy_warehouse("faulted"))
        issued = stack.sandbox.platform_api("google_ads").issued_tokens()
        run = stack.run_dag(REPORT_DATE)
        clean = Step(run, stack.copy_warehouse("clean"))
        issued += [t for t in stack.sandbox.platform_api("google_ads").issued_tokens() if t not in issued]
    finally:
        stack.stop()
    return SmallWorld(world, stack, registry, faulted, clean, issued)


# The Marketing Stream world (tests/test_marketing_stream.py): the demo's first-run warehouse with the demo's
# stream (scripts/stack.py demo_stream_bodies: the spike on one Amazon campaign the next morning), two full days
# before the report day instead of three; ads_stream run once on it.
STREAM_BASELINE_DAYS = 2


@dataclass
class StreamWorld:
    run: DagRun
    warehouse: Warehouse
    bodies: list[str]
    sqs_url: str
    queue_url: str
    dead_letter_queue_url: str


def build_stream_world(demo: DemoWorld, sqs_url: str, home: Path) -> StreamWorld:
    from stack import SQS_ACCOUNT, demo_stream_bodies, sqs_client, stream_connection_env

    from sandbox.platforms.amazon_ads_stream import ensure_queues, publish
    from sandbox.server import SandboxServer

    stack = demo.stack
    warehouse = Warehouse(stack.pg_server, copy_database(stack.pg_server, demo.first.warehouse.dbname, f"{demo.first.warehouse.dbname}_stream"))
    queue = "stream-world"
    sqs = sqs_client(sqs_url)
    queue_url, dlq_url = ensure_queues(sqs, queue)
    bodies = demo_stream_bodies(demo.world, REPORT_DATE, STREAM_BASELINE_DAYS)
    publish(sqs, queue_url, bodies)
    sandbox = SandboxServer(demo.world, credentials=stack.credentials, today=FIRST_TODAY)  # the Amazon profiles API
    sandbox.start()
    try:
        env = {
            **stack.env,
            **connections_env(stack.pg_server.port, stack.pg_server.password, warehouse.dbname, sandbox.url, stack.credentials),
            **dbt_cli_env(stack.pg_server.port, stack.pg_server.password, warehouse.dbname),
            **stream_connection_env(sqs_url, queue),
            "ADS_ELT_LAKE_ROOT": f"file://{home / 'lake'}",
        }
        proc = subprocess.run(
            [venv_bin("airflow"), "dags", "test", "ads_stream", f"{FIRST_TODAY.isoformat()}T21:05:00+00:00"],
            env=env, capture_output=True, text=True, cwd=REPO, timeout=900,
        )  # fmt: skip
    finally:
        sandbox.stop()
    home.mkdir(parents=True, exist_ok=True)
    (home / "ads_stream.log").write_text(proc.stdout + proc.stderr)
    assert f"{sqs_url}/{SQS_ACCOUNT}/{queue}" == queue_url
    return StreamWorld(DagRun(proc.returncode, proc.stdout + proc.stderr), warehouse, bodies, sqs_url, queue_url, dlq_url)
