"""Store orders through the pipeline functions (plan -> extract -> load) into a real Postgres.

Every order the sandbox store changed in the window lands in ``raw.<store>__orders``
exactly once; a refund on a later day shows up in the next run's re-pull; bad
orders go to ``ops.quarantine`` with their reason; a bad store entry stops
``prepare`` before anything is written. Expectations come from the sandbox's
ground truth (``StoreWorld.orders``).
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import psycopg2
import pytest
import yaml

END = date(2026, 11, 20)
HISTORY_DAYS = 20
STORES = {
    "shopify": ("northwind-outdoor", "raw.shopify__orders", "id"),
    "woocommerce": ("lumen-home", "raw.woocommerce__orders", "id"),
    "salla": ("1456832901", "raw.salla__orders", "id"),
    "zid": ("38211", "raw.zid__orders", "id"),
}
REGISTRY = {
    "version": 1,
    "defaults": {"initial_history_days": HISTORY_DAYS},
    "workspaces": [
        {
            "id": "northwind_us", "currency": "USD", "timezone": "America/New_York",
            "accounts": [{"platform": "meta", "account_id": "1000000001"}],
            "stores": [{"platform": "shopify", "store_id": "northwind-outdoor", "connection": "shopify_northwind"}],
        },
        {
            "id": "lumen_eu", "currency": "EUR", "timezone": "Europe/Berlin",
            "accounts": [{"platform": "meta", "account_id": "2000000002"}],
            "stores": [{"platform": "woocommerce", "store_id": "lumen-home", "connection": "woocommerce_lumen"}],
        },
        {
            "id": "souq_sa", "currency": "SAR", "timezone": "Asia/Riyadh",
            "accounts": [{"platform": "tiktok", "account_id": "7100000000000002"}],
            "stores": [
                {"platform": "salla", "store_id": "1456832901", "connection": "salla_souq"},
                {"platform": "zid", "store_id": "38211", "connection": "zid_souq", "lookback_days": 7},
            ],
        },
    ],
}


@pytest.fixture(scope="module")
def sandbox():
    from sandbox.server import SandboxServer
    from sandbox.world import World

    with SandboxServer(World.demo(END), today=END + timedelta(days=1)) as server:
        yield server


@pytest.fixture
def env(pg_server, sandbox, tmp_path, monkeypatch):
    from stack import connections_env

    dbname = pg_server.create_database("stores")
    for key, value in connections_env(pg_server.port, pg_server.password, dbname, sandbox.url, sandbox.credentials).items():
        if key.startswith("AIRFLOW_CONN_WAREHOUSE_") or key == "ADS_ELT_DBT_CONN_ID":
            continue
        monkeypatch.setenv(key, value)
    registry = tmp_path / "workspaces.yml"
    registry.write_text(yaml.safe_dump(REGISTRY))
    monkeypatch.setenv("ADS_ELT_REGISTRY", str(registry))
    monkeypatch.setenv("ADS_ELT_LAKE_ROOT", f"file://{tmp_path / 'lake'}")
    monkeypatch.setenv("ADS_ELT_HTTP_BACKOFF_BASE", "0.01")
    monkeypatch.setenv("ADS_ELT_HTTP_BACKOFF_MAX", "0.05")
    sandbox.clear_faults()
    sandbox.set_today(END + timedelta(days=1))
    yield pg_server.dsn(dbname), registry
    sandbox.clear_faults()
    sandbox.set_today(END + timedelta(days=1))


def sync(platform: str, run_date: date, run_id: str) -> list[dict]:
    from ads_elt.ingestion import pipeline

    return [pipeline.load(pipeline.extract(scope)) for scope in pipeline.plan(platform, run_date, run_id)]


def query(dsn: str, sql: str, params: tuple = ()) -> list[tuple]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def expected(sandbox, platform: str, store_id: str, since: date, until: date, as_of: date) -> dict[str, date]:
    """Order id -> store-local day of its last update, for orders changed in the window."""
    return {
        o["order_id"]: o["updated_local"].date()
        for o in sandbox.stores.orders(platform, store_id, as_of=as_of)
        if since <= o["updated_local"].date() <= until
    }


@pytest.mark.parametrize("platform", sorted(STORES))
def test_every_order_lands_once_with_its_local_update_day(env, sandbox, platform):
    from ads_elt.ingestion.pipeline import prepare

    dsn, _ = env
    prepare(END)
    store_id, table, _ = STORES[platform]
    results = sync(platform, END, "run-1")
    assert [r["rows_quarantined"] for r in results] == [0]
    since = END - timedelta(days=HISTORY_DAYS - 1)
    want = expected(sandbox, platform, store_id, since, END, END + timedelta(days=1))
    rows = query(dsn, f"select payload->>'id', report_date from {table} where account_id = %s", (store_id,))
    assert len(rows) == len(want)  # once each
    assert dict(rows) == want
    state = query(dsn, "select status, last_success_window_end from ops.sync_state where platform = %s", (platform,))
    assert state == [("ok", END)]
    # A rerun of the same day replaces the window: still once each.
    sync(platform, END, "run-1b")
    assert query(dsn, f"select count(*), count(distinct payload->>'id') from {table}") == [(len(want), len(want))]


def test_a_refund_on_a_later_day_shows_up_in_the_next_re_pull(env, sandbox):
    from ads_elt.ingestion.pipeline import prepare

    dsn, _ = env
    day1 = END - timedelta(days=5)
    later = sandbox.stores.orders("shopify", "northwind-outdoor", as_of=END + timedelta(days=1))
    refunded = {
        o["order_id"]: o
        for o in later
        if o["status"] != "paid" and o["created_local"].date() <= day1 < o["updated_local"].date() <= END
    }
    assert refunded  # the world refunds or cancels some orders after the first run's day
    sandbox.set_today(day1 + timedelta(days=1))
    prepare(day1)
    sync("shopify", day1, "run-day1")
    first = dict(query(dsn, "select payload->>'id', payload->>'displayFinancialStatus' from raw.shopify__orders"))
    assert {first[i] for i in refunded} == {"PAID"}
    sandbox.set_today(END + timedelta(days=1))
    sync("shopify", END, "run-end")
    latest = query(
        dsn,
        "select distinct on (payload->>'id') payload->>'id', payload->>'displayFinancialStatus', "
        "(payload->'totalRefundedSet'->'shopMoney'->>'amount')::numeric, report_date "
        "from raw.shopify__orders order by payload->>'id', payload->>'updatedAt' desc, extracted_at desc",
    )
    by_id = {i: (status, float(amount), day) for i, status, amount, day in latest}
    for order_id, order in refunded.items():
        status, amount, day = by_id[order_id]
        assert status in ("REFUNDED", "PARTIALLY_REFUNDED")
        assert amount == pytest.approx(order["refunded_amount"])
        assert day == order["updated_local"].date()


def test_bad_orders_are_quarantined_with_their_reason(env, sandbox, tmp_path):
    """An order without an id and one with an unparseable total: quarantined, the rest loaded."""
    from ads_elt.ingestion import lake, pipeline

    dsn, _ = env
    pipeline.prepare(END)
    scope = pipeline.plan("zid", END, "run-bad")[0]
    batch = pipeline.extract(scope)
    directory, manifest = lake.read_manifest(batch["uri"])
    first = directory / manifest["pages"][0]
    body = json.loads(first.read_text())
    in_window = [o for o in body["orders"] if o["updated_at"][:10] >= scope.window_start.isoformat()]
    in_window[0].pop("id")
    in_window[1]["order_total"] = "12,50 SAR"
    first.write_text(json.dumps(body))
    result = pipeline.load(batch)
    assert result["rows_quarantined"] == 2
    reasons = sorted(r for (r,) in query(dsn, "select reason from ops.quarantine where platform = 'zid'"))
    assert any("id is missing" in r for r in reasons)
    assert any("order_total is not a number" in r and "12,50 SAR" in r for r in reasons)
    total = len(expected(sandbox, "zid", "38211", scope.window_start, END, END + timedelta(days=1)))
    assert result["rows_loaded"] == total - 2


def test_a_bad_store_entry_stops_prepare_before_any_write(env):
    from airflow.sdk.exceptions import AirflowFailException

    from ads_elt.ingestion.pipeline import prepare

    dsn, registry = env
    bad = yaml.safe_load(registry.read_text())
    bad["workspaces"][2]["stores"][0]["store_id"] = "not-a-number"
    registry.write_text(yaml.safe_dump(bad))
    with pytest.raises(AirflowFailException, match=r"workspaces\[2\]\.stores\[0\]\.store_id"):
        prepare(END)
    assert query(dsn, "select count(*) from information_schema.schemata where schema_name in ('raw', 'ops')") == [(0,)]
