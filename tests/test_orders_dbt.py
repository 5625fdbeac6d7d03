"""Store orders in dbt: staging, fct_orders, attribution and the blended ROAS mart.

Crafted raw orders for the four stores, in each store's wire format
(Shopify Admin GraphQL order nodes, WooCommerce REST orders, Salla and Zid
orders), plus Meta and Google Ads raw rows, go into a throwaway Postgres; a
real `dbt build` runs; the marts are checked against values recomputed here
from the crafted orders, the ad truth and the `fx_rates` seed.

Each crafted order states the attribution rule it is built to exercise
(`expected_rule`); amounts, order dates, FX conversion and the mart are
recomputed independently in Python.
"""

from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import psycopg2
import psycopg2.extras
import pytest
from test_dbt_project import (
    Campaign,
    DayTruth,
    close,
    dbt_env,
    fetch,
    fx_rates_from_seed,
    google_payload,
    meta_payload,
    run_dbt,
    run_results,
    usd_per_unit,
)

from ads_elt.warehouse import ensure_schema

START = date(2025, 3, 1)
DAYS = 40
END = START + timedelta(days=DAYS - 1)  # 2025-04-09
EXTRACTED_1 = datetime(2025, 4, 10, 6, tzinfo=UTC)
EXTRACTED_2 = datetime(2025, 4, 11, 6, tzinfo=UTC)
WINDOW_DAYS = 7  # var attribution_window_days
SOUQ_WINDOW_DAYS = 3  # registry override for souq_gulf

REPORTING = {"northwind_us": "USD", "souq_gulf": "SAR"}

# workspace_id, platform, account_id, account_name, currency, timezone, reporting_currency
# fmt: off
REGISTRY = [
    ("northwind_us", "meta", "1000000001", "Northwind Meta", "USD", "America/New_York", "USD"),
    ("northwind_us", "google_ads", "1234567890", "Northwind Search", "USD", "America/New_York", "USD"),
    ("northwind_us", "shopify", "northwind.myshopify.com", "Northwind Shop", "USD", "America/New_York", "USD"),
    ("northwind_us", "woocommerce", "nw-eu-shop", "Northwind EU", "EUR", "Europe/Berlin", "USD"),
    ("souq_gulf", "meta", "3000000003", "Souq Meta UAE", "AED", "Asia/Dubai", "SAR"),
    ("souq_gulf", "salla", "salla-771", "Souq Salla", "SAR", "Asia/Riyadh", "SAR"),
    ("souq_gulf", "zid", "zid-5501", "Souq Zid", "SAR", "Asia/Riyadh", "SAR"),
]
STORE_TZ = {(r[0], r[2]): r[5] for r in REGISTRY}

# Meta campaigns "Black Friday" and "black  friday" normalise to the same name: ambiguous.
CAMPAIGNS = [
    Campaign("northwind_us", "meta", "1000000001", "USD", "23850000001", "NW Prospecting", 20000, 0.02, 0.05, 150.0, 60.0),
    Campaign("northwind_us", "meta", "1000000001", "USD", "23850000002", "NW Retargeting", 8000, 0.03, 0.08, 60.0, 45.0),
    Campaign("northwind_us", "meta", "1000000001", "USD", "23850000003", "Black Friday", 5000, 0.02, 0.05, 40.0, 50.0),
    Campaign("northwind_us", "meta", "1000000001", "USD", "23850000004", "black  friday", 5000, 0.02, 0.05, 40.0, 50.0),
    # delivers on days 0-4 only
    Campaign("northwind_us", "meta", "1000000001", "USD", "23850000005", "NW Paused", 4000, 0.02, 0.05, 30.0, 50.0, tuple(range(5, DAYS))),
    Campaign("northwind_us", "google_ads", "1234567890", "USD", "111", "Spring+Sale", 6000, 0.05, 0.06, 120.0, 55.0),
    Campaign("northwind_us", "google_ads", "1234567890", "USD", "112", "Brand Search", 3000, 0.04, 0.05, 50.0, 40.0),
    Campaign("souq_gulf", "meta", "3000000003", "AED", "23870000001", "Ramadan Offers", 25000, 0.018, 0.05, 400.0, 220.0),
    # delivers on days 0-9 only
    Campaign("souq_gulf", "meta", "3000000003", "AED", "23870000002", "Eid Flash", 9000, 0.02, 0.05, 100.0, 150.0, tuple(range(10, DAYS))),
]
# fmt: on
CAMPAIGN_BY_NAME = {c.name: c for c in CAMPAIGNS}


def ad_truth(c: Campaign, day: date) -> DayTruth | None:
    offset = (day - START).days
    if offset in c.skipped_days:
        return None
    rnd = random.Random(f"orders|{c.campaign_id}|{day.isoformat()}")
    impressions = int(c.impressions * rnd.uniform(0.9, 1.1))
    clicks = round(impressions * c.ctr)
    conversions = round(clicks * c.cvr)
    return DayTruth(
        impressions,
        clicks,
        Decimal(f"{c.spend * rnd.uniform(0.9, 1.1):.2f}"),
        Decimal(conversions),
        Decimal(f"{conversions * c.order_value * rnd.uniform(0.9, 1.1):.2f}"),
    )


# --------------------------------------------------------------------------- crafted orders


@dataclass
class Version:
    """One version of an order as a store sent it."""

    updated_local: datetime  # wall clock in the store's time zone
    extracted_at: datetime
    refunded: Decimal = Decimal(0)
    status: str = "completed"
    cancelled: bool = False


@dataclass
class Order:
    store: str  # shopify, woocommerce, salla, zid
    workspace_id: str
    store_id: str
    order_id: str
    placed_local: datetime  # wall clock in the store's time zone
    currency: str
    total: Decimal
    utm: dict[str, str | None] | None  # source, medium, campaign, content, term
    expected_rule: str
    expected_campaign: str | None = None  # campaign name the order is attributed to
    click_before: timedelta | None = None  # Shopify: lastVisit.occurredAt = placed - this
    versions: list[Version] = field(default_factory=list)

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(STORE_TZ[(self.workspace_id, self.store_id)])

    @property
    def ordered_at(self) -> datetime:
        return self.placed_local.replace(tzinfo=self.tz).astimezone(UTC)

    @property
    def order_date(self) -> date:
        return self.placed_local.date()

    @property
    def final(self) -> Version:
        return max(self.versions, key=lambda v: (v.updated_local, v.extracted_at))


def at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(START + timedelta(days=day), datetime.min.time()).replace(
        hour=hour, minute=minute
    )


def utm(source, campaign, medium="paid", content=None, term=None) -> dict:
    return {"source": source, "medium": medium, "campaign": campaign, "content": content, "term": term}


def simple(order: Order, **version) -> Order:
    """An order pulled once, updated an hour after it was placed."""
    order.versions = [Version(order.placed_local + timedelta(hours=1), EXTRACTED_1, **version)]
    return order


NW, SOUQ = "northwind_us", "souq_gulf"
SHOP, WOO, SALLA, ZID = "northwind.myshopify.com", "nw-eu-shop", "salla-771", "zid-5501"
H2 = timedelta(hours=2)

# fmt: off
ORDERS = [
    # Shopify, USD store, America/New_York. 22:30 local on day 20 is day 21 in UTC.
    simple(Order("shopify", NW, SHOP, "5001", at(20, 22, 30), "USD", Decimal("129.90"), utm("Facebook", "NW%20Prospecting"), "campaign_name", "NW Prospecting", H2)),
    simple(Order("shopify", NW, SHOP, "5002", at(21, 10), "USD", Decimal("45.00"), utm(" facebook ", "  nw   retargeting "), "campaign_name", "NW Retargeting", H2)),
    simple(Order("shopify", NW, SHOP, "5003", at(22, 11), "USD", Decimal("60.00"), utm("fb", "NW+Retargeting"), "campaign_name", "NW Retargeting", H2)),
    simple(Order("shopify", NW, SHOP, "5004", at(23, 12), "USD", Decimal("80.00"), utm("google", "Spring%2BSale", term="spring tents"), "campaign_name", "Spring+Sale", H2)),
    simple(Order("shopify", NW, SHOP, "5005", at(24, 9), "USD", Decimal("99.00"), utm("ig", "23850000001"), "campaign_id", "NW Prospecting", H2)),
    Order("shopify", NW, SHOP, "5006", at(25, 15), "USD", Decimal("120.00"), utm("facebook", "NW Prospecting"), "campaign_name", "NW Prospecting", H2,
          [Version(at(25, 16), EXTRACTED_1), Version(at(27, 9), EXTRACTED_2, refunded=Decimal("50.00"), status="partially_refunded")]),
    simple(Order("shopify", NW, SHOP, "5007", at(26, 13), "USD", Decimal("70.00"), utm("facebook", "50%off"), "malformed_utm", None, H2)),
    simple(Order("shopify", NW, SHOP, "5008", at(26, 14), "USD", Decimal("71.00"), utm("facebook", "%FFsale"), "malformed_utm", None, H2)),
    # a link encoded twice: %2B stands for a space when the name does not match with a literal +
    # a raw % that names no campaign as the store shows it either stays malformed
    simple(Order("shopify", NW, SHOP, "5021", at(26, 16), "USD", Decimal("73.00"), utm("fb", "nw+paused+100%"), "malformed_utm", None, H2)),
    simple(Order("shopify", NW, SHOP, "5020", at(26, 15), "USD", Decimal("72.00"), utm("fb", "NW%2BRetargeting"), "campaign_name", "NW Retargeting", H2)),
    simple(Order("shopify", NW, SHOP, "5009", at(27, 8), "USD", Decimal("33.00"), None, "organic")),
    simple(Order("shopify", NW, SHOP, "5010", at(28, 8), "USD", Decimal("88.00"), utm("facebook", "NW Prospecting"), "outside_window", None, timedelta(days=10))),
    simple(Order("shopify", NW, SHOP, "5011", at(29, 8), "USD", Decimal("61.00"), utm("facebook", "Black Friday"), "ambiguous_campaign", None, H2)),
    simple(Order("shopify", NW, SHOP, "5012", at(30, 8), "USD", Decimal("62.00"), utm(None, "NW Prospecting"), "unknown_source", None, H2)),
    simple(Order("shopify", NW, SHOP, "5013", at(31, 8), "USD", Decimal("63.00"), utm("facebook", None), "missing_campaign", None, H2)),
    simple(Order("shopify", NW, SHOP, "5014", at(32, 8), "USD", Decimal("64.00"), utm("newsletter", "March"), "unknown_source", None, H2)),
    simple(Order("shopify", NW, SHOP, "5015", at(33, 8), "USD", Decimal("65.00"), utm("facebook", "Nonexistent Campaign"), "unmatched_campaign", None, H2)),
    simple(Order("shopify", NW, SHOP, "5016", at(20, 8), "USD", Decimal("66.00"), utm("facebook", "NW Paused"), "outside_window", None, H2)),
    simple(Order("shopify", NW, SHOP, "5017", at(10, 8), "USD", Decimal("67.00"), utm("facebook", "nw paused"), "campaign_name", "NW Paused", H2)),
    simple(Order("shopify", NW, SHOP, "5018", at(34, 8), "USD", Decimal("55.00"), None, "organic"), cancelled=True, refunded=Decimal("55.00"), status="refunded"),
    simple(Order("shopify", NW, SHOP, "5019", at(35, 8), "JPY", Decimal("9800"), None, "organic")),
    # WooCommerce, EUR store, Europe/Berlin; workspace reports in USD. 31 Mar 23:30 and 1 Apr 00:30 local
    # straddle the EUR rate change (and are both 31 Mar in UTC).
    simple(Order("woocommerce", NW, WOO, "801", at(30, 23, 30), "EUR", Decimal("150.00"), utm("google", "Brand Search", term="northwind boots"), "campaign_name", "Brand Search")),
    simple(Order("woocommerce", NW, WOO, "802", at(31, 0, 30), "EUR", Decimal("75.50"), utm("tiktok", "spring launch"), "unmatched_campaign")),
    Order("woocommerce", NW, WOO, "803", at(28, 12), "EUR", Decimal("80.00"), utm("Instagram", "nw retargeting"), "campaign_name", "NW Retargeting", None,
          [Version(at(28, 13), EXTRACTED_1, status="processing"), Version(at(33, 10), EXTRACTED_2, refunded=Decimal("20.00"))]),
    simple(Order("woocommerce", NW, WOO, "804", at(29, 12), "EUR", Decimal("40.00"), None, "organic"), status="cancelled", cancelled=True),
    simple(Order("woocommerce", NW, WOO, "805", at(29, 13), "EUR", Decimal("41.00"), None, "organic"), status="refunded", refunded=Decimal("41.00")),
    # Salla, SAR store, Asia/Riyadh. 01:30 local on day 14 is day 13 in UTC.
    simple(Order("salla", SOUQ, SALLA, "9001", at(14, 1, 30), "SAR", Decimal("250.50"), utm("facebook", "Ramadan%20Offers", term="عروض رمضان"), "campaign_name", "Ramadan Offers")),
    Order("salla", SOUQ, SALLA, "9002", at(15, 18), "SAR", Decimal("300.00"), None, "organic", None, None,
          [Version(at(15, 19), EXTRACTED_1), Version(at(18, 9), EXTRACTED_2, refunded=Decimal("300.00"), status="refunded")]),
    simple(Order("salla", SOUQ, SALLA, "9003", at(16, 12), "AED", Decimal("100.00"), utm("meta", "23870000001"), "campaign_id", "Ramadan Offers")),
    simple(Order("salla", SOUQ, SALLA, "9004", at(17, 12), "SAR", Decimal("90.00"), None, "organic"), status="canceled", cancelled=True),
    # the last visit (source_details.last_visit_at) is 5 days old: outside souq_gulf's 3-day window
    simple(Order("salla", SOUQ, SALLA, "9005", at(16, 13), "SAR", Decimal("95.00"), utm("facebook", "Ramadan Offers"), "outside_window", None, timedelta(days=5))),
    simple(Order("salla", SOUQ, SALLA, "9006", at(16, 14), "SAR", Decimal("96.00"), None, "organic"), refunded=Decimal("30.00")),
    # Zid, SAR store, Asia/Riyadh.
    simple(Order("zid", SOUQ, ZID, "7001", at(19, 2), "SAR", Decimal("199.99"), utm("FB", "RAMADAN OFFERS", term="ramadan offers"), "campaign_name", "Ramadan Offers")),
    Order("zid", SOUQ, ZID, "7002", at(20, 12), "SAR", Decimal("120.00"), utm("snap", "x"), "unmatched_campaign", None, None,
          # the stale version was pulled again after the refunded one: the update time decides
          [Version(at(20, 13), EXTRACTED_2), Version(at(22, 9), EXTRACTED_1, refunded=Decimal("120.00"), status="refunded")]),
    simple(Order("zid", SOUQ, ZID, "7003", at(21, 12), "KWD", Decimal("15.000"), None, "organic")),
    # a campaign id without utm_source names its platform; refunded_total for a partial refund
    simple(Order("zid", SOUQ, ZID, "7006", at(17, 12), "SAR", Decimal("130.00"), utm(None, " 23870000001 "), "campaign_id", "Ramadan Offers", H2),
           refunded=Decimal("40.00"), status="partially_refunded"),
    simple(Order("zid", SOUQ, ZID, "7007", at(17, 13), "SAR", Decimal("131.00"), utm("facebook", "Ramadan Offers"), "outside_window", None, timedelta(days=4))),
    # Eid Flash delivered on days 0-9: within the default 7-day window of day 14, not within souq_gulf's 3 days.
    simple(Order("zid", SOUQ, ZID, "7004", at(14, 12), "SAR", Decimal("210.00"), utm("facebook", "Eid Flash"), "outside_window")),
    simple(Order("zid", SOUQ, ZID, "7005", at(9, 12), "SAR", Decimal("220.00"), utm("facebook", "eid flash"), "campaign_name", "Eid Flash")),
]
# fmt: on


def iso_offset(local: datetime, tz: ZoneInfo) -> str:
    return local.replace(tzinfo=tz).isoformat()


def iso_z(local: datetime, tz: ZoneInfo) -> str:
    return local.replace(tzinfo=tz).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def shopify_payload(o: Order, v: Version) -> dict:
    money = lambda amount: {"shopMoney": {"amount": f"{amount}", "currencyCode": o.currency}}  # noqa: E731
    journey = None
    if o.utm is not None:
        click = o.placed_local - (o.click_before or timedelta(0))
        journey = {
            "lastVisit": {
                "occurredAt": iso_z(click, o.tz),
                "landingPage": "https://northwind.example/products/tent",
                "referrerUrl": "https://l.facebook.com/",
                "utmParameters": dict(o.utm),
            }
        }
    return {
        "id": f"gid://shopify/Order/{o.order_id}",
        "name": f"#{o.order_id}",
        "createdAt": iso_z(o.placed_local, o.tz),
        "updatedAt": iso_offset(v.updated_local, o.tz),
        "cancelledAt": iso_z(v.updated_local, o.tz) if v.cancelled else None,
        "displayFinancialStatus": v.status.upper(),
        "totalPriceSet": money(o.total),
        "totalRefundedSet": money(v.refunded),
        "customerJourneySummary": journey,
    }


def woocommerce_payload(o: Order, v: Version) -> dict:
    fmt = "%Y-%m-%dT%H:%M:%S"
    meta = [{"id": 9000, "key": "_wc_order_attribution_source_type", "value": "utm" if o.utm else "typein"}]
    for i, part in enumerate(("source", "medium", "campaign", "content", "term")):
        if o.utm and o.utm.get(part) is not None:
            meta.append({"id": 9001 + i, "key": f"_wc_order_attribution_utm_{part}", "value": o.utm[part]})
    meta.append({"id": 9010, "key": "_billing_vat", "value": "DE123"})
    refunds = [{"id": 1, "reason": "", "total": f"-{v.refunded}"}] if v.refunded and v.status != "refunded" else []
    return {
        "id": int(o.order_id),
        "number": o.order_id,
        "status": v.status,
        "currency": o.currency,
        "total": f"{o.total}",
        "date_created": o.placed_local.strftime(fmt),
        "date_created_gmt": o.ordered_at.strftime(fmt),
        "date_modified": v.updated_local.strftime(fmt),
        "date_modified_gmt": v.updated_local.replace(tzinfo=o.tz).astimezone(UTC).strftime(fmt),
        "refunds": refunds,
        "meta_data": meta,
    }


SALLA_SLUGS = {"refunded": "restored", "partially_refunded": "completed"}  # Salla's slugs, as the sandbox sends them


def salla_payload(o: Order, v: Version) -> dict:
    fmt = "%Y-%m-%d %H:%M:%S.000000"
    payload = {
        "id": int(o.order_id) * 1000 + 7,
        "reference_id": int(o.order_id),
        "date": {"date": o.placed_local.strftime(fmt), "timezone_type": 3, "timezone": "Asia/Riyadh"},
        "updated_at": {"date": v.updated_local.strftime(fmt), "timezone_type": 3, "timezone": "Asia/Riyadh"},
        "amounts": {
            "total": {"amount": float(o.total), "currency": o.currency},
            "refunded": {"amount": float(v.refunded), "currency": o.currency},
        },
        "status": {"id": 1, "name": v.status.title(), "slug": SALLA_SLUGS.get(v.status, v.status)},
        "source_details": {"type": "direct", "referrer": None, "landing_page": "/", "last_visit_at": None, "utm": None},
    }
    if o.click_before is not None:
        visit = o.placed_local - o.click_before
        payload["source_details"]["last_visit_at"] = {"date": visit.strftime(fmt), "timezone_type": 3, "timezone": "Asia/Riyadh"}
    if o.utm is not None:
        payload["source_details"].update(type="utm", utm={k: o.utm[k] for k in ("source", "medium", "campaign", "content", "term")})
    return payload


def zid_payload(o: Order, v: Version) -> dict:
    fmt = "%Y-%m-%d %H:%M:%S"
    payload = {
        "id": int(o.order_id),
        "code": f"Z{o.order_id}",
        "order_total": f"{o.total}",
        "currency_code": o.currency,
        "created_at": o.placed_local.strftime(fmt),
        "updated_at": v.updated_local.strftime(fmt),
        "order_status": {"code": v.status, "name": v.status.title()},
        "refunded_total": f"{v.refunded:.2f}",
        "marketing": {"referer": None, "landing_url": "/", "last_visit_at": None},
    }
    if o.click_before is not None:
        payload["marketing"]["last_visit_at"] = (o.placed_local - o.click_before).strftime(fmt)
    if o.utm is not None:
        payload["marketing"].update({f"utm_{k}": o.utm[k] for k in ("source", "medium", "campaign", "content", "term") if o.utm[k] is not None})
    return payload


PAYLOADS = {"shopify": shopify_payload, "woocommerce": woocommerce_payload, "salla": salla_payload, "zid": zid_payload}


def expected_order_id(o: Order) -> str:
    return str(salla_payload(o, o.final)["id"]) if o.store == "salla" else o.order_id


def expected_net(o: Order) -> Decimal:
    v = o.final
    return Decimal(0) if v.cancelled else o.total - v.refunded


# --------------------------------------------------------------------------- database


def load_database(dsn: str) -> None:
    conn = psycopg2.connect(dsn)
    try:
        ensure_schema(conn)
        columns = "(workspace_id, account_id, report_date, payload, sync_run_id, window_start, window_end, extracted_at)"
        with conn.cursor() as cur:
            psycopg2.extras.execute_values(cur, "insert into ops.workspace_accounts values %s", REGISTRY)
            cur.execute(
                "insert into ops.workspace_settings (workspace_id, setting, value) values (%s, %s, %s)",
                (SOUQ, "attribution_window_days", str(SOUQ_WINDOW_DAYS)),
            )
            rows = defaultdict(list)
            for o in ORDERS:
                for v in o.versions:
                    run = "run-1" if v.extracted_at == EXTRACTED_1 else "run-2"
                    rows[o.store].append(
                        (o.workspace_id, o.store_id, v.updated_local.date(), json.dumps(PAYLOADS[o.store](o, v)),
                         f"{run}-{o.store_id}", START, END, v.extracted_at)
                    )
            for c in CAMPAIGNS:
                for offset in range(DAYS):
                    day = START + timedelta(days=offset)
                    t = ad_truth(c, day)
                    if t is None:
                        continue
                    payload = meta_payload(c, day, t) if c.platform == "meta" else google_payload(c, day, t)
                    table = "meta__insights" if c.platform == "meta" else "google_ads__campaign_performance"
                    rows[table].append(
                        (c.workspace_id, c.account_id, day, json.dumps(payload), f"run-1-{c.account_id}", START, END, EXTRACTED_1)
                    )
            for name, values in rows.items():
                table = name if "__" in name else f"{name}__orders"
                psycopg2.extras.execute_values(cur, f'insert into raw."{table}" {columns} values %s', values)
        conn.commit()
    finally:
        conn.close()


@dataclass
class Built:
    dsn: str
    workdir: Path
    results: list[dict]


@pytest.fixture(scope="module")
def built(pg_server, tmp_path_factory) -> Built:
    dbname = pg_server.create_database(prefix="orders")
    dsn = pg_server.dsn(dbname)
    load_database(dsn)
    workdir = tmp_path_factory.mktemp("dbt-orders")
    # The unit tests (fct_attributed_orders has eleven) run once, on an empty build: test_dbt_mechanics.py.
    run_dbt(["build", "--exclude", "resource_type:unit_test"], dbt_env(pg_server.port, dbname, pg_server.password), workdir)
    return Built(dsn, workdir, run_results(workdir))


RATES = fx_rates_from_seed()


def to_reporting(amount: Decimal, currency: str, reporting: str, day: date) -> Decimal | None:
    if currency == reporting:
        return amount
    if currency not in RATES:
        return None
    return amount * usd_per_unit(RATES, currency, day) / usd_per_unit(RATES, reporting, day)


def orders_by_key(rows: list[dict]) -> dict[tuple, dict]:
    return {(r["store_platform"], r["store_id"], r["order_id"]): r for r in rows}


def key(o: Order) -> tuple:
    return (o.store, o.store_id, expected_order_id(o))


# --------------------------------------------------------------------------- tests


def test_build_passes(built: Built):
    statuses = {r["unique_id"]: r["status"] for r in built.results}
    bad = {uid: s for uid, s in statuses.items() if s in ("fail", "error")}
    assert not bad, bad
    assert any("assert_orders_have_fx_rates" in uid for uid in statuses)


def test_every_order_once_with_its_latest_version_and_converted_amounts(built: Built):
    rows = fetch(built.dsn, "select * from marts.fct_orders")
    found = orders_by_key(rows)
    assert len(rows) == len(found) == len(ORDERS)
    assert set(found) == {key(o) for o in ORDERS}
    for o in ORDERS:
        row = found[key(o)]
        where = f"{o.store} order {o.order_id}"
        reporting = REPORTING[o.workspace_id]
        assert row["ordered_at"] == o.ordered_at, where
        assert row["order_date"] == o.order_date, where
        assert row["currency"] == o.currency, where
        assert row["gross_revenue"] == o.total, where
        assert row["refunded_amount"] == o.final.refunded, where
        assert row["revenue"] == expected_net(o), where
        assert row["is_refunded"] == (o.final.refunded > 0), where
        assert row["is_cancelled"] == o.final.cancelled, where
        assert row["utm_term"] == (o.utm or {}).get("term"), where
        expected = to_reporting(expected_net(o), o.currency, reporting, o.order_date)
        assert close(row["revenue_reporting"], expected), (where, row["revenue_reporting"], expected)
        if expected is None:
            assert row["fx_status"] == "unknown_currency", where
        else:
            assert row["fx_status"] == ("same_currency" if o.currency == reporting else "converted"), where


def test_the_rate_is_the_order_dates(built: Built):
    """The two EUR orders an hour apart across midnight of 1 April use March's and April's rate."""
    rows = orders_by_key(fetch(built.dsn, "select * from marts.fct_orders where store_platform = 'woocommerce'"))
    march, april = rows[("woocommerce", WOO, "801")], rows[("woocommerce", WOO, "802")]
    assert march["order_date"] == date(2025, 3, 31) and april["order_date"] == date(2025, 4, 1)
    assert march["ordered_at"].date() == april["ordered_at"].date() == date(2025, 3, 31)
    assert close(march["fx_rate_to_reporting"], usd_per_unit(RATES, "EUR", date(2025, 3, 31)))
    assert close(april["fx_rate_to_reporting"], usd_per_unit(RATES, "EUR", date(2025, 4, 1)))
    assert march["fx_rate_to_reporting"] != april["fx_rate_to_reporting"]


def test_refunds_and_repulled_orders(built: Built):
    for store in PAYLOADS:
        staged = fetch(built.dsn, f"select order_id from staging.stg_{store}__orders")
        assert sorted(r["order_id"] for r in staged) == sorted(expected_order_id(o) for o in ORDERS if o.store == store)
    rows = orders_by_key(fetch(built.dsn, "select * from marts.fct_orders"))
    repulled = [o for o in ORDERS if len(o.versions) > 1]
    assert {o.store for o in repulled} == set(PAYLOADS)
    for o in repulled:
        row = rows[key(o)]
        assert row["refunded_amount"] == o.versions[-1].refunded > 0
        assert row["revenue"] == o.total - o.versions[-1].refunded
        sent = o.versions[-1].status
        assert row["status"] == (SALLA_SLUGS.get(sent, sent) if o.store == "salla" else sent)  # the store's own status


def test_unknown_currencies_are_exceptions_not_drops(built: Built):
    rows = fetch(built.dsn, "select * from marts.mart_order_exceptions order by order_id")
    by_reason = defaultdict(set)
    for r in rows:
        by_reason[r["reason"]].add((r["store_platform"], r["order_id"]))
    unknown = {(o.store, expected_order_id(o)) for o in ORDERS if o.currency not in RATES}
    assert unknown and by_reason["unknown_currency"] == unknown
    malformed = {(o.store, expected_order_id(o)) for o in ORDERS if o.expected_rule == "malformed_utm"}
    assert by_reason["malformed_utm"] == malformed
    assert set(by_reason) == {"unknown_currency", "malformed_utm"}


def test_attribution_rules(built: Built):
    rows = orders_by_key(fetch(built.dsn, "select * from marts.fct_attributed_orders"))
    assert len(rows) == len(ORDERS)
    for o in ORDERS:
        row = rows[key(o)]
        where = f"{o.store} order {o.order_id} utm {o.utm}"
        assert row["attribution_rule"] == o.expected_rule, (where, row)
        if o.expected_campaign:
            c = CAMPAIGN_BY_NAME[o.expected_campaign]
            assert (row["platform"], row["account_id"], row["campaign_id"]) == (c.platform, c.account_id, c.campaign_id), where
            assert row["is_attributed"], where
        else:
            assert row["platform"] is None and row["campaign_id"] is None and not row["is_attributed"], where
    assert rows[key(ORDERS[-2])]["attribution_window_days"] == SOUQ_WINDOW_DAYS
    assert rows[key(ORDERS[0])]["attribution_window_days"] == WINDOW_DAYS


def expected_workspace_kpis() -> dict[tuple, dict]:
    """mart_workspace_kpis_daily recomputed from the ad truth, the crafted orders and the seed."""
    currency_of = {(r[0], r[1], r[2]): r[4] for r in REGISTRY}
    daily: dict[tuple, dict] = defaultdict(lambda: defaultdict(Decimal))
    for c in CAMPAIGNS:
        reporting = REPORTING[c.workspace_id]
        for offset in range(DAYS):
            day = START + timedelta(days=offset)
            t = ad_truth(c, day)
            if t is None:
                continue
            currency = currency_of[(c.workspace_id, c.platform, c.account_id)]
            spend = to_reporting(t.spend, currency, reporting, day)
            value = to_reporting(t.conversion_value, currency, reporting, day)
            for platform in (c.platform, "all"):
                row = daily[(c.workspace_id, platform, day)]
                row["spend"] += spend
                row["platform_revenue"] += value
    for o in ORDERS:
        revenue = to_reporting(expected_net(o), o.currency, REPORTING[o.workspace_id], o.order_date)
        all_row = daily[(o.workspace_id, "all", o.order_date)]
        all_row["store_revenue"] += revenue or 0
        if o.expected_campaign:
            platform = CAMPAIGN_BY_NAME[o.expected_campaign].platform
            daily[(o.workspace_id, platform, o.order_date)]["attributed_revenue"] += revenue or 0
            all_row["attributed_revenue"] += revenue or 0
    out = {}
    for ws, platform, day in list(daily):
        result = {}
        for suffix, days in (("", 1), ("_7d", 7), ("_28d", 28)):
            sums = defaultdict(Decimal)
            for back in range(days):
                other = daily.get((ws, platform, day - timedelta(days=back)))
                for measure, value in (other or {}).items():
                    sums[measure] += value
            spend, store = sums["spend"], sums["store_revenue"]
            unclaimed = store - sums["attributed_revenue"]
            ratio = lambda n, d: None if not d else n / d  # noqa: E731
            result[f"spend{suffix}"] = spend
            result[f"attributed_revenue{suffix}"] = sums["attributed_revenue"]
            result[f"platform_revenue{suffix}"] = sums["platform_revenue"]
            result[f"attributed_roas{suffix}"] = ratio(sums["attributed_revenue"], spend)
            result[f"platform_roas{suffix}"] = ratio(sums["platform_revenue"], spend)
            if platform == "all":
                result[f"store_revenue{suffix}"] = store
                result[f"unclaimed_revenue{suffix}"] = unclaimed
                result[f"blended_roas{suffix}"] = ratio(store, spend)
                result[f"unclaimed_revenue_share{suffix}"] = ratio(unclaimed, store)
            else:
                result[f"store_revenue{suffix}"] = None
                result[f"blended_roas{suffix}"] = None
        out[(ws, platform, day)] = result
    return out


def test_workspace_kpis_match_an_independent_computation(built: Built):
    rows = fetch(built.dsn, "select * from marts.mart_workspace_kpis_daily")
    found = {(r["workspace_id"], r["platform"], r["date_day"]): r for r in rows}
    assert len(found) == len(rows)
    expected = expected_workspace_kpis()
    assert set(found) == set(expected)
    for k, columns in expected.items():
        row = found[k]
        assert row["reporting_currency"] == REPORTING[k[0]], k
        for column, value in columns.items():
            assert close(row[column], value, rel=1e-9, abs_=1e-6), (k, column, row[column], value)
    # the crafted data exercises what the mart is for
    assert any(r["platform"] == "all" and r["unclaimed_revenue_share"] not in (None, 0) for r in rows)
    assert any(r["platform"] == "google_ads" and r["attributed_revenue"] > 0 for r in rows)


def test_a_missing_rate_warns_naming_currency_and_day_and_fails_no_one_else(pg_server, tmp_path):
    """An EUR order dated before the seed's first EUR rate: `assert_orders_have_fx_rates` warns (the
    build goes on for every other workspace), its rows name the currency and the day; the order itself
    is kept with fx_status missing_rate (the data_quality step quarantines it and alerts its workspace).
    An order of a store missing from the registry is kept too, marked unregistered_store."""
    dbname = pg_server.create_database(prefix="ordersfx")
    dsn = pg_server.dsn(dbname)
    first_eur_rate = min(day for day, _ in RATES["EUR"])
    placed = datetime.combine(first_eur_rate - timedelta(days=17), datetime.min.time()).replace(hour=12)
    order = simple(Order("woocommerce", NW, WOO, "700", placed, "EUR", Decimal("10.00"), None, "organic"))
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        ensure_schema(conn)
        psycopg2.extras.execute_values(cur, "insert into ops.workspace_accounts values %s", REGISTRY)
        cur.execute(
            "insert into raw.woocommerce__orders (workspace_id, account_id, report_date, payload, sync_run_id, "
            "window_start, window_end, extracted_at) values (%s, %s, %s, %s, 'run-1', %s, %s, %s)",
            (NW, WOO, placed.date(), json.dumps(woocommerce_payload(order, order.final)), placed.date(), placed.date(), EXTRACTED_1),
        )
        # a Shopify store missing from the registry: kept, marked, no reporting amount
        ghost = simple(Order("shopify", NW, SHOP, "5999", placed, "USD", Decimal("25.00"), None, "organic"))
        cur.execute(
            "insert into raw.shopify__orders (workspace_id, account_id, report_date, payload, sync_run_id, "
            "window_start, window_end, extracted_at) values (%s, %s, %s, %s, 'run-1', %s, %s, %s)",
            (NW, "ghost.myshopify.com", placed.date(), json.dumps(shopify_payload(ghost, ghost.final)), placed.date(), placed.date(), EXTRACTED_1),
        )
    conn.close()
    workdir = tmp_path / "dbt"
    result = run_dbt(
        ["build", "--select", "+fct_orders", "assert_orders_have_fx_rates", "--indirect-selection", "cautious"],
        dbt_env(pg_server.port, dbname, pg_server.password),
        workdir,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-4000:]
    statuses = {r["unique_id"]: r["status"] for r in run_results(workdir)}
    assert statuses["test.ads_elt.assert_orders_have_fx_rates"] == "warn", statuses
    assert not {u for u, st in statuses.items() if st in ("fail", "error")}
    compiled = next((workdir / "target" / "compiled").rglob("assert_orders_have_fx_rates.sql")).read_text()
    assert fetch(dsn, compiled) == [
        {"currency": "EUR", "reporting_currency": "USD", "missing_rate_date": placed.date(), "orders": 1}
    ]
    rows = fetch(dsn, "select store_id, fx_status, revenue, revenue_reporting from marts.fct_orders order by store_id")
    assert rows == [
        {"store_id": "ghost.myshopify.com", "fx_status": "unregistered_store", "revenue": Decimal("25.00"), "revenue_reporting": None},
        {"store_id": WOO, "fx_status": "missing_rate", "revenue": Decimal("10.00"), "revenue_reporting": None},
    ]
