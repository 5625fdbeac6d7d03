"""Store-order adapters (Shopify, WooCommerce, Salla, Zid) against the sandbox's store APIs.

Expectations come from the sandbox's ground truth (``StoreWorld.orders``), never
from the adapters' own output: each test would fail if its quirk were ignored.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
import requests
from sandbox_clients import Sleeps, http

from adapters.errors import ReauthRequiredError
from adapters.salla import SallaOrdersClient
from adapters.salla import report_date as salla_day
from adapters.shopify import ShopifyOrdersClient, classify
from adapters.shopify import report_date as shopify_day
from adapters.stores import classify_unauthorized
from adapters.woocommerce import WooCommerceOrdersClient
from adapters.woocommerce import report_date as woo_day
from adapters.zid import ZidOrdersClient
from adapters.zid import report_date as zid_day

END = date(2026, 11, 20)
TODAY = END + timedelta(days=1)
SINCE, UNTIL = END - timedelta(days=9), END


@pytest.fixture(scope="module")
def sandbox():
    from sandbox.server import SandboxServer
    from sandbox.world import World

    with SandboxServer(World.demo(END), today=TODAY) as server:
        yield server


@pytest.fixture(autouse=True)
def clean(sandbox):
    sandbox.clear_faults()
    yield
    sandbox.clear_faults()


def truth(sandbox, platform: str, store_id: str, since: date = SINCE, until: date = UNTIL) -> dict[str, dict]:
    """Orders last updated on a store-local day of the window, by order id."""
    return {
        o["order_id"]: o
        for o in sandbox.stores.orders(platform, store_id, as_of=sandbox.today)
        if since <= o["updated_local"].date() <= until
    }


def in_window(records: list[dict], day, timezone: str, since: date = SINCE, until: date = UNTIL) -> list[dict]:
    return [r for r in records if since <= day(r, timezone) <= until]


# -- Shopify ---------------------------------------------------------------------------------------


def shopify(sandbox, sleeps: Sleeps | None = None, shop: str = "northwind-outdoor", page_size: int = 250, token: str | None = None):
    return ShopifyOrdersClient(
        f"{sandbox.url}/shopify/{shop}",
        token or sandbox.credentials["shopify"]["access_token"],
        http=http("shopify", classify, sleeps),
        page_size=page_size,
    )


def test_shopify_cursor_paging_returns_every_order_updated_in_the_window(sandbox):
    expected = truth(sandbox, "shopify", "northwind-outdoor")
    pages = list(shopify(sandbox, page_size=40).fetch_orders("northwind-outdoor", SINCE, UNTIL, "America/New_York"))
    assert len(pages) > 3  # more orders than one page holds: the cursor was followed
    nodes = [n for p in pages for n in p.records]
    assert sorted(n["id"] for n in nodes) == sorted(expected)
    for node in nodes:
        order = expected[node["id"]]
        assert node["totalPriceSet"]["shopMoney"]["amount"] == str(round(order["total"], 2))  # money as a string
        assert shopify_day(node, "America/New_York") == order["updated_local"].date()


def test_shopify_throttled_with_http_200_is_waited_out_and_retried(sandbox):
    api = sandbox.platform_api("shopify")
    api.script("THROTTLED", "THROTTLED")
    sleeps = Sleeps()
    pages = list(shopify(sandbox, sleeps).fetch_orders("northwind-outdoor", SINCE, UNTIL, "America/New_York"))
    assert sorted(n["id"] for p in pages for n in p.records) == sorted(truth(sandbox, "shopify", "northwind-outdoor"))
    # The wait is what the bucket needs for the query: (requested 252 - available 40) / restore rate 100.
    assert sleeps == [pytest.approx(2.12), pytest.approx(2.12)]
    assert not any(p.body.startswith(b'{"errors"') for p in pages)  # no throttle answer reached the lake


def test_shopify_throttle_fault_and_bad_token(sandbox):
    sandbox.add_fault("rate_limited", platform="shopify", count=1)
    sleeps = Sleeps()
    pages = list(shopify(sandbox, sleeps, shop="harbor-tea").fetch_orders("harbor-tea", SINCE, UNTIL, "Europe/London"))
    assert sleeps and sum(len(p.records) for p in pages) == len(truth(sandbox, "shopify", "harbor-tea"))
    with pytest.raises(ReauthRequiredError, match="401"):
        list(shopify(sandbox, token="shpat_wrong").fetch_orders("northwind-outdoor", SINCE, UNTIL, "America/New_York"))


def test_shopify_refund_on_a_later_day_moves_the_order_into_a_later_pull(sandbox):
    orders = sandbox.stores.orders("shopify", "northwind-outdoor", as_of=TODAY)
    refunded = next(o for o in orders if o["status"] == "refunded" and o["created_local"].date() < o["updated_local"].date() and SINCE <= o["updated_local"].date() <= END)
    before = refunded["updated_local"].date() - timedelta(days=1)
    sandbox.set_today(refunded["updated_local"].date())  # the day of the refund has not happened yet
    try:
        old = [n for p in shopify(sandbox).fetch_orders("northwind-outdoor", before - timedelta(days=6), before, "America/New_York") for n in p.records]
    finally:
        sandbox.set_today(TODAY)
    new = [n for p in shopify(sandbox).fetch_orders("northwind-outdoor", SINCE, UNTIL, "America/New_York") for n in p.records]
    old_node = next(n for n in old if n["id"] == refunded["order_id"])
    new_node = next(n for n in new if n["id"] == refunded["order_id"])
    assert old_node["displayFinancialStatus"] == "PAID" and old_node["totalRefundedSet"]["shopMoney"]["amount"] == "0.0"
    assert new_node["displayFinancialStatus"] == "REFUNDED"
    assert float(new_node["totalRefundedSet"]["shopMoney"]["amount"]) == pytest.approx(refunded["refunded_amount"])
    assert new_node["updatedAt"] > old_node["updatedAt"]


# -- WooCommerce -----------------------------------------------------------------------------------


def woo(sandbox, page_size: int = 100):
    c = sandbox.credentials["woocommerce"]
    return WooCommerceOrdersClient(
        f"{sandbox.url}/woocommerce/lumen-home", c["consumer_key"], c["consumer_secret"], http=http("woocommerce", classify_unauthorized), page_size=page_size
    )


def test_woocommerce_pages_by_x_wp_totalpages(sandbox):
    expected = truth(sandbox, "woocommerce", "lumen-home")
    pages = list(woo(sandbox, page_size=25).fetch_orders("lumen-home", SINCE, UNTIL, "Europe/Berlin"))
    assert len(pages) == -(-len(expected) // 25) > 2
    assert sorted(str(o["id"]) for p in pages for o in p.records) == sorted(expected)
    for order in (o for p in pages for o in p.records):
        assert isinstance(order["total"], str) and float(order["total"]) == pytest.approx(expected[str(order["id"])]["total"])


def test_woocommerce_window_is_asked_in_gmt_and_days_are_store_local(sandbox):
    everything = sandbox.stores.orders("woocommerce", "lumen-home", as_of=TODAY)

    def near_midnight(o: dict) -> bool:  # local and UTC days differ: the first hour(s) of a Berlin day
        return o["updated_local"].date() != o["updated_at"].date()

    edge = next(o for o in reversed(everything) if near_midnight(o) and o["updated_local"].date() < END)
    since = until = edge["updated_local"].date()
    expected = truth(sandbox, "woocommerce", "lumen-home", since, until)
    pages = list(woo(sandbox).fetch_orders("lumen-home", since, until, "Europe/Berlin"))
    records = [o for p in pages for o in p.records]
    assert sorted(str(o["id"]) for o in records) == sorted(expected)
    got = next(o for o in records if str(o["id"]) == edge["order_id"])
    assert got["date_modified"] == edge["updated_local"].strftime("%Y-%m-%dT%H:%M:%S")  # local, no zone
    assert got["date_modified_gmt"] == edge["updated_at"].strftime("%Y-%m-%dT%H:%M:%S")  # UTC, no zone
    assert got["date_modified"][:10] != got["date_modified_gmt"][:10]
    assert woo_day(got, "Europe/Berlin") == since


def test_woocommerce_bad_keys_need_reauthorisation(sandbox):
    client = WooCommerceOrdersClient(f"{sandbox.url}/woocommerce/lumen-home", "ck_x", "cs_y", http=http("woocommerce", classify_unauthorized))
    with pytest.raises(ReauthRequiredError, match="woocommerce_rest_cannot_view"):
        list(client.fetch_orders("lumen-home", SINCE, UNTIL, "Europe/Berlin"))


# -- Salla -----------------------------------------------------------------------------------------


def salla(sandbox, sleeps: Sleeps | None = None):
    return SallaOrdersClient(
        f"{sandbox.url}/salla/1456832901", sandbox.credentials["salla"]["access_token"], http=http("salla", classify_unauthorized, sleeps)
    )


def test_salla_pagination_envelope_and_numeric_amounts(sandbox):
    expected = truth(sandbox, "salla", "1456832901")
    pages = list(salla(sandbox).fetch_orders("1456832901", SINCE, UNTIL, "Asia/Riyadh"))
    assert len(pages) > 1
    assert all(p.request["params"]["per_page"] == "60" for p in pages)
    records = in_window([o for p in pages for o in p.records], salla_day, "Asia/Riyadh")
    assert sorted(str(o["id"]) for o in records) == sorted(expected)
    for order in records:
        amount = order["amounts"]["total"]["amount"]
        assert isinstance(amount, int | float) and not isinstance(amount, bool)  # a JSON number, not a string
        assert amount == pytest.approx(expected[str(order["id"])]["total"])
        assert order["date"]["timezone"] == "Asia/Riyadh"


def test_salla_retries_a_5xx_and_a_429(sandbox):
    sandbox.add_fault("http_500", platform="salla", count=1)
    sandbox.add_fault("rate_limited", platform="salla", count=1, retry_after=1, skip=1)
    sleeps = Sleeps()
    pages = list(salla(sandbox, sleeps).fetch_orders("1456832901", SINCE, UNTIL, "Asia/Riyadh"))
    assert len(sleeps) == 2 and 1.0 in sleeps
    records = in_window([o for p in pages for o in p.records], salla_day, "Asia/Riyadh")
    assert len(records) == len(truth(sandbox, "salla", "1456832901"))


# -- Zid -------------------------------------------------------------------------------------------


def zid(sandbox, store_id: str = "38211"):
    c = sandbox.credentials["zid"]
    return ZidOrdersClient(f"{sandbox.url}/zid", c["authorization"], c["manager_token"], http=http("zid", classify_unauthorized))


def test_zid_needs_its_manager_headers(sandbox):
    c = sandbox.credentials["zid"]
    url = f"{sandbox.url}/zid/v1/managers/store/orders"
    full = {"Authorization": f"Bearer {c['authorization']}", "X-Manager-Token": c["manager_token"], "Role": "Manager", "Store-Id": "38211"}
    assert requests.get(url, headers=full, timeout=5).status_code == 200
    for missing in ("Store-Id", "X-Manager-Token", "Role"):
        answer = requests.get(url, headers={k: v for k, v in full.items() if k != missing}, timeout=5)
        assert answer.status_code == 400 and missing in answer.json()["message"]["description"]
    assert requests.get(url, headers={**full, "X-Manager-Token": "wrong"}, timeout=5).status_code == 401


def test_zid_pages_and_keeps_store_local_time(sandbox):
    expected = truth(sandbox, "zid", "38211")
    pages = list(zid(sandbox).fetch_orders("38211", SINCE, UNTIL, "Asia/Riyadh"))
    assert len(pages) > 1
    records = in_window([o for p in pages for o in p.records], zid_day, "Asia/Riyadh")
    assert sorted(str(o["id"]) for o in records) == sorted(expected)
    shifted = 0
    for order in records:
        truth_order = expected[str(order["id"])]
        assert order["updated_at"] == truth_order["updated_local"].strftime("%Y-%m-%d %H:%M:%S")
        assert zid_day(order, "Asia/Riyadh") == truth_order["updated_local"].date()
        shifted += truth_order["updated_at"].date() != truth_order["updated_local"].date()
        assert isinstance(order["order_total"], str)
    assert shifted  # some orders fall on another UTC day: reading them as UTC would move them


def test_zid_bad_token_needs_reauthorisation(sandbox):
    client = ZidOrdersClient(f"{sandbox.url}/zid", "nope", "nope", http=http("zid", classify_unauthorized))
    with pytest.raises(ReauthRequiredError):
        list(client.fetch_orders("38211", SINCE, UNTIL, "Asia/Riyadh"))


def test_zid_faults_match_the_store_in_the_store_id_header(sandbox):
    sandbox.add_fault("http_500", platform="zid", account_id="99999", count=None)  # another store: never hit
    sandbox.add_fault("http_500", platform="zid", account_id="38211", count=2)
    sleeps = Sleeps()
    client = ZidOrdersClient(
        f"{sandbox.url}/zid", sandbox.credentials["zid"]["authorization"], sandbox.credentials["zid"]["manager_token"], http=http("zid", classify_unauthorized, sleeps)
    )
    pages = list(client.fetch_orders("38211", SINCE, UNTIL, "Asia/Riyadh"))
    assert len(sleeps) == 2
    assert len(in_window([o for p in pages for o in p.records], zid_day, "Asia/Riyadh")) == len(truth(sandbox, "zid", "38211"))
