"""dbt project: `dbt build` on a real local Postgres, then the marts checked
against values recomputed here, independently, from the raw payloads.

One database is built once for the module (raw Meta and Google Ads payloads
for five accounts over 40 days, two overlapping extractions, an injected spend
spike and CTR collapse); the assertions read it. A second, tiny database
shows missing FX rates failing the build's data tests.
"""

from __future__ import annotations

import csv
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path

import psycopg2
import psycopg2.extras
import pytest
import yaml

from ads_elt.warehouse import ensure_schema

REPO = Path(__file__).resolve().parents[1]
PROJECT = REPO / "dbt_project"
PROJECT_VARS = yaml.safe_load((PROJECT / "dbt_project.yml").read_text())["vars"]
# The seeded worlds' detector settings (ops.workspace_settings): every metric at z 3.5, as the demo's northwind_us
# sets in the registry. These worlds test the detector's arithmetic on bounded noise; the product defaults in
# dbt_project.yml are the operating point `make evaluate` chose on the realistic world.
DETECTOR_SETTINGS = {
    "anomaly_metrics": "spend,ctr,cvr,cpa,roas",
    "anomaly_z_threshold": "3.5",
    "anomaly_min_clicks": "30",
    "anomaly_min_conversions": "5",
}
DETECTOR_VARS = {**PROJECT_VARS, **{k: (v if k == "anomaly_metrics" else float(v)) for k, v in DETECTOR_SETTINGS.items()}}


def pin_detector_settings(dsn: str, workspace_ids, extra: dict[str, str] | None = None) -> None:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor() as cur:
            for workspace_id in sorted(set(workspace_ids)):
                for setting, value in {**DETECTOR_SETTINGS, **(extra or {})}.items():
                    cur.execute(
                        "insert into ops.workspace_settings values (%s, %s, %s) "
                        "on conflict (workspace_id, setting) do update set value = excluded.value",
                        (workspace_id, setting, value),
                    )
        conn.commit()
    finally:
        conn.close()

START = date(2025, 1, 1)
DAYS = 40
END = START + timedelta(days=DAYS - 1)  # 2025-02-09

WORKSPACE_ACCOUNTS_DDL = """
create schema if not exists ops;
create table if not exists ops.workspace_accounts (
    workspace_id text not null,
    platform text not null,
    account_id text not null,
    account_name text,
    currency text not null,
    timezone text not null,
    reporting_currency text not null,
    primary key (workspace_id, platform, account_id)
);
"""

# workspace_id, platform, account_id, account_name, currency, timezone, reporting_currency
# fmt: off
ACCOUNTS = [
    ("northwind_us", "meta", "1000000001", "Northwind Meta", "USD", "America/New_York", "USD"),
    ("northwind_us", "google_ads", "1234567890", "Northwind Search", "USD", "America/New_York", "USD"),
    ("lumen_eu", "meta", "2000000002", "Lumen Meta", "EUR", "Europe/Berlin", "EUR"),
    ("lumen_eu", "google_ads", "2345678901", "Lumen Search UK", "GBP", "Europe/London", "EUR"),
    ("souq_gulf", "meta", "3000000003", "Souq Meta UAE", "AED", "Asia/Dubai", "SAR"),
]
# fmt: on


@dataclass(frozen=True)
class Campaign:
    workspace_id: str
    platform: str
    account_id: str
    currency: str
    campaign_id: str
    name: str
    impressions: int
    ctr: float
    cvr: float
    spend: float
    order_value: float
    skipped_days: tuple[int, ...] = ()


# fmt: off
CAMPAIGNS = [
    Campaign("northwind_us", "meta", "1000000001", "USD", "23850000001", "NW Prospecting", 20000, 0.02, 0.05, 150.0, 60.0),
    Campaign("northwind_us", "meta", "1000000001", "USD", "23850000002", "NW Retargeting", 8000, 0.03, 0.08, 60.0, 45.0, (9, 10, 11, 25)),
    Campaign("northwind_us", "google_ads", "1234567890", "USD", "111", "NW Search Brand", 6000, 0.05, 0.06, 120.0, 55.0),
    Campaign("northwind_us", "google_ads", "1234567890", "USD", "112", "NW Search Tiny", 300, 0.02, 0.05, 4.0, 30.0),
    Campaign("lumen_eu", "meta", "2000000002", "EUR", "23860000001", "Lumen Spring", 15000, 0.015, 0.04, 90.0, 80.0),
    Campaign("lumen_eu", "google_ads", "2345678901", "GBP", "211", "Lumen Search Generic", 10000, 0.04, 0.05, 200.0, 70.0),
    Campaign("lumen_eu", "google_ads", "2345678901", "GBP", "212", "Lumen Shopping", 12000, 0.025, 0.04, 110.0, 65.0),
    Campaign("souq_gulf", "meta", "3000000003", "AED", "23870000001", "Souq Ramadan", 25000, 0.018, 0.05, 400.0, 220.0),
]
# fmt: on

SPEND_SPIKE = (CAMPAIGNS[0], END)  # spend x5 on the last day
CTR_COLLAPSE = (CAMPAIGNS[5], END - timedelta(days=5))  # clicks / 8
NORMAL_POINT = (CAMPAIGNS[2], END - timedelta(days=3))
# Special payloads
META_DIFFERING_DUPLICATES = (CAMPAIGNS[4], START + timedelta(days=30))
META_NO_ACTIONS = (CAMPAIGNS[1], START + timedelta(days=33))
GOOGLE_NO_CLICKS = (CAMPAIGNS[6], START + timedelta(days=31))
GOOGLE_NO_METRICS = (CAMPAIGNS[3], START + timedelta(days=35))

FIRST_RUN_DAYS = range(30)  # extraction 1: days 0..29
SECOND_RUN_DAYS = range(20, DAYS)  # extraction 2 (later, restated): days 20..39

FACT_KEY = ("date_day", "workspace_id", "platform", "account_id", "campaign_id")


@dataclass
class DayTruth:
    impressions: int
    clicks: int
    spend: Decimal
    conversions: Decimal
    conversion_value: Decimal


def day_truth(c: Campaign, day: date, restated: bool) -> DayTruth | None:
    """Deterministic metrics of a campaign-day; None when the campaign did not run."""
    offset = (day - START).days
    if offset in c.skipped_days:
        return None
    rnd = random.Random(f"{c.campaign_id}|{day.isoformat()}")

    def jitter() -> float:
        return rnd.uniform(0.93, 1.07)

    impressions = int(c.impressions * jitter())
    clicks = round(impressions * c.ctr * jitter())
    spend = Decimal(f"{c.spend * jitter():.2f}")
    conversions = round(clicks * c.cvr * jitter())
    if not restated:  # late conversions arrive with the next extraction
        conversions = max(conversions - 1, 0)
    if (c, day) == SPEND_SPIKE:
        spend *= 5
    if (c, day) == CTR_COLLAPSE:
        clicks //= 8
        conversions = round(clicks * c.cvr)
    if (c, day) in (GOOGLE_NO_CLICKS, META_NO_ACTIONS):
        conversions = 0
    if (c, day) == GOOGLE_NO_CLICKS:
        clicks = 0
    if (c, day) == GOOGLE_NO_METRICS:
        return DayTruth(0, 0, Decimal(0), Decimal(0), Decimal(0))
    conversion_value = Decimal(f"{conversions * c.order_value * jitter():.2f}")
    return DayTruth(impressions, clicks, spend, Decimal(conversions), conversion_value)


def meta_payload(c: Campaign, day: date, t: DayTruth) -> dict:
    payload = {
        "campaign_id": c.campaign_id,
        "campaign_name": c.name,
        "date_start": day.isoformat(),
        "date_stop": day.isoformat(),
        "account_currency": c.currency,
        "spend": f"{t.spend:.2f}",
        "impressions": str(t.impressions),
        "clicks": str(t.clicks),
        "reach": str(int(t.impressions * 0.8)),
    }
    if (c, day) == META_NO_ACTIONS:
        return payload
    actions = [{"action_type": "link_click", "value": str(t.clicks)}]
    values = []
    if t.conversions:
        pixel_count, pixel_value = str(t.conversions), f"{t.conversion_value:.2f}"
        other_count, other_value = pixel_count, pixel_value
        if (c, day) == META_DIFFERING_DUPLICATES:
            other_count = str(t.conversions + 3)
            other_value = f"{t.conversion_value + 100:.2f}"
        for action_type in ("purchase", "omni_purchase"):
            actions.append({"action_type": action_type, "value": other_count})
            values.append({"action_type": action_type, "value": other_value})
        actions.append(
            {
                "action_type": "offsite_conversion.fb_pixel_purchase",
                "value": pixel_count,
            }
        )
        values.append(
            {
                "action_type": "offsite_conversion.fb_pixel_purchase",
                "value": pixel_value,
            }
        )
    payload["actions"] = actions
    if values:
        payload["action_values"] = values
    return payload


def google_payload(c: Campaign, day: date, t: DayTruth) -> dict:
    metrics = {
        "clicks": str(t.clicks),
        "costMicros": str(int(t.spend * 1_000_000)),
        "impressions": str(t.impressions),
        "conversions": float(t.conversions),
        "conversionsValue": float(t.conversion_value),
    }
    # proto3 JSON: fields at their default value are omitted
    metrics = {k: v for k, v in metrics.items() if v not in ("0", 0.0)}
    payload = {
        "campaign": {
            "resourceName": f"customers/{c.account_id}/campaigns/{c.campaign_id}",
            "id": c.campaign_id,
            "name": c.name,
        },
        "segments": {"date": day.isoformat()},
    }
    if metrics:
        payload["metrics"] = metrics
    return payload


def raw_rows() -> tuple[list[tuple], list[tuple]]:
    """Rows for raw.meta__insights and raw.google_ads__campaign_performance."""
    meta, google = [], []
    runs = [
        ("run-1", FIRST_RUN_DAYS, datetime(2025, 1, 31, 6, tzinfo=UTC), False),
        ("run-2", SECOND_RUN_DAYS, datetime(2025, 2, 10, 6, tzinfo=UTC), True),
    ]
    for run_id, offsets, extracted_at, restated in runs:
        window_start = START + timedelta(days=offsets[0])
        window_end = START + timedelta(days=offsets[-1])
        for c in CAMPAIGNS:
            for offset in offsets:
                day = START + timedelta(days=offset)
                t = day_truth(c, day, restated)
                if t is None:
                    continue
                if c.platform == "meta":
                    payload, target = meta_payload(c, day, t), meta
                else:
                    payload, target = google_payload(c, day, t), google
                target.append(
                    (
                        c.workspace_id,
                        c.account_id,
                        day,
                        json.dumps(payload),
                        f"{run_id}-{c.account_id}",
                        window_start,
                        window_end,
                        extracted_at,
                    )
                )
    return meta, google


def expected_truth() -> dict[tuple, DayTruth]:
    """The final (latest extraction) truth per fact key."""
    out = {}
    for c in CAMPAIGNS:
        for offset in range(DAYS):
            day = START + timedelta(days=offset)
            t = day_truth(c, day, restated=offset in SECOND_RUN_DAYS)
            if t is not None:
                out[(day, c.workspace_id, c.platform, c.account_id, c.campaign_id)] = t
    return out


def load_database(dsn: str, with_raw: bool = True, accounts=ACCOUNTS) -> None:
    conn = psycopg2.connect(dsn)
    try:
        ensure_schema(conn)
        with conn.cursor() as cur:
            cur.execute(WORKSPACE_ACCOUNTS_DDL)
            cur.execute("truncate ops.workspace_accounts")
            psycopg2.extras.execute_values(
                cur, "insert into ops.workspace_accounts values %s", accounts
            )
            if with_raw:
                meta, google = raw_rows()
                columns = "(workspace_id, account_id, report_date, payload, sync_run_id, window_start, window_end, extracted_at)"
                psycopg2.extras.execute_values(
                    cur, f"insert into raw.meta__insights {columns} values %s", meta
                )
                psycopg2.extras.execute_values(
                    cur,
                    f"insert into raw.google_ads__campaign_performance {columns} values %s",
                    google,
                )
        conn.commit()
    finally:
        conn.close()


# --------------------------------------------------------------------------- dbt


def dbt_executable() -> str:
    candidate = Path(sys.executable).parent / "dbt"
    if candidate.exists():
        return str(candidate)
    found = shutil.which("dbt")
    assert found, "dbt not found next to the interpreter or on PATH"
    return found


def dbt_env(port: int | None = None, dbname: str | None = None, password: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DBT_")}
    env.update(DO_NOT_TRACK="1", DBT_SEND_ANONYMOUS_USAGE_STATS="false")
    if port is not None:
        env.update(
            DBT_HOST="127.0.0.1",
            DBT_PORT=str(port),
            DBT_USER="postgres",
            DBT_PASSWORD=password,
            DBT_DBNAME=dbname or "postgres",
            DBT_SCHEMA="analytics",
        )
    return env


def run_dbt(
    args: list[str], env: dict[str, str], workdir: Path, check: bool = True
) -> subprocess.CompletedProcess:
    cmd = [
        dbt_executable(),
        *args,
        "--profiles-dir",
        str(PROJECT),
        "--project-dir",
        str(PROJECT),
        "--target-path",
        str(workdir / "target"),
        "--log-path",
        str(workdir / "logs"),
    ]
    result = subprocess.run(
        cmd, env=env, cwd=REPO, capture_output=True, text=True, timeout=600, check=False
    )
    if check:
        assert result.returncode == 0, (
            f"{' '.join(args)} failed:\n{result.stdout[-8000:]}\n{result.stderr[-4000:]}"
        )
    return result


def run_results(workdir: Path) -> list[dict]:
    return json.loads((workdir / "target" / "run_results.json").read_text())["results"]


def fetch(dsn: str, query: str) -> list[dict]:
    conn = psycopg2.connect(dsn)
    try:
        with conn.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cur:
            cur.execute(query)
            return [dict(r) for r in cur.fetchall()]
    finally:
        conn.close()


MART_ORDER = {
    "marts.fct_ad_performance_daily": "date_day, workspace_id, platform, account_id, campaign_id",
    "marts.mart_campaign_kpis_daily": "date_day, workspace_id, platform, account_id, campaign_id",
    "marts.mart_anomalies": "date_day, workspace_id, platform, account_id, campaign_id, metric",
}


def snapshot_marts(dsn: str) -> dict[str, list[dict]]:
    return {
        table: fetch(dsn, f"select * from {table} order by {order}")
        for table, order in MART_ORDER.items()
    }


BUILD = ["build", "--exclude", "resource_type:unit_test"]


@dataclass
class Built:
    dsn: str
    workdir: Path
    results: list[dict]
    marts: dict[str, list[dict]]


@pytest.fixture(scope="module")
def built(pg_server, tmp_path_factory) -> Built:
    dbname = pg_server.create_database(prefix="dbt")
    dsn = pg_server.dsn(dbname)
    load_database(dsn)
    pin_detector_settings(dsn, [a[0] for a in ACCOUNTS])
    workdir = tmp_path_factory.mktemp("dbt-build")
    # The unit tests need no data: they run once, on an empty build (test_dbt_mechanics.py).
    run_dbt(BUILD, dbt_env(pg_server.port, dbname, pg_server.password), workdir)
    return Built(dsn, workdir, run_results(workdir), snapshot_marts(dsn))


# --------------------------------------------------------------------------- helpers


def close(a, b, rel: float = 1e-9, abs_: float = 1e-9) -> bool:
    if a is None or b is None:
        return a is None and b is None
    return math.isclose(float(a), float(b), rel_tol=rel, abs_tol=abs_)


def ratio(numerator, denominator):
    return None if not denominator else Decimal(numerator) / Decimal(denominator)


def fx_rates_from_seed() -> dict[str, list[tuple[date, Decimal]]]:
    rates: dict[str, list[tuple[date, Decimal]]] = defaultdict(list)
    with open(PROJECT / "seeds" / "fx_rates.csv", newline="") as f:
        for row in csv.DictReader(f):
            rates[row["currency_code"]].append(
                (date.fromisoformat(row["rate_date"]), Decimal(row["usd_per_unit"]))
            )
    for series in rates.values():
        series.sort()
    return rates


def usd_per_unit(rates, currency: str, day: date) -> Decimal:
    known = [rate for rate_date, rate in rates[currency] if rate_date <= day]
    assert known, f"no {currency} rate on or before {day}"
    return known[-1]


def key_of(row: dict) -> tuple:
    return tuple(row[k] for k in FACT_KEY)


# --------------------------------------------------------------------------- tests


def test_build_runs_models_and_data_tests(built: Built):
    by_type = defaultdict(list)
    for r in built.results:
        by_type[r["unique_id"].split(".")[0]].append(r)
    assert {r["status"] for r in by_type["model"]} == {"success"}
    assert len(by_type["model"]) >= 9
    test_statuses = {r["unique_id"]: r["status"] for r in by_type["test"]}
    assert all(s == "pass" for s in test_statuses.values()), test_statuses
    assert any("assert_fct_spend_reconciles_to_staging" in uid for uid in test_statuses)


def test_models_land_in_their_schemas(built: Built):
    rows = fetch(
        built.dsn,
        "select table_schema, table_name, table_type from information_schema.tables "
        "where table_schema in ('staging', 'intermediate', 'marts', 'seeds')",
    )
    found = {(r["table_schema"], r["table_name"]): r["table_type"] for r in rows}
    assert found[("staging", "stg_meta__insights")] == "VIEW"
    assert found[("staging", "stg_google_ads__campaign_performance")] == "VIEW"
    assert found[("intermediate", "int_ad_performance_unioned")] == "VIEW"
    assert found[("intermediate", "int_fx_rates_daily")] == "VIEW"
    for table in (
        "fct_ad_performance_daily",
        "mart_campaign_kpis_daily",
        "mart_anomalies",
    ):
        assert found[("marts", table)] == "BASE TABLE"


def test_fact_equals_the_payloads(built: Built):
    truth = expected_truth()
    rates = fx_rates_from_seed()
    accounts = {(a[0], a[1], a[2]): a for a in ACCOUNTS}
    campaign_names = {c.campaign_id: c.name for c in CAMPAIGNS}
    fact = built.marts["marts.fct_ad_performance_daily"]
    assert {key_of(r) for r in fact} == set(truth)
    assert len(fact) == len(truth)
    for row in fact:
        t = truth[key_of(row)]
        account = accounts[(row["workspace_id"], row["platform"], row["account_id"])]
        currency, reporting = account[4], account[6]
        assert row["campaign_name"] == campaign_names[row["campaign_id"]]
        assert (row["currency"], row["reporting_currency"]) == (currency, reporting)
        assert row["impressions"] == t.impressions
        assert row["clicks"] == t.clicks
        assert row["spend"] == t.spend, row
        assert row["conversions"] == t.conversions, row
        assert row["conversion_value"] == t.conversion_value, row
        fx = (
            Decimal(1)
            if currency == reporting
            else usd_per_unit(rates, currency, row["date_day"])
            / usd_per_unit(rates, reporting, row["date_day"])
        )
        assert close(row["spend_reporting"], t.spend * fx), row
        assert close(row["conversion_value_reporting"], t.conversion_value * fx), row


def test_fact_special_payloads(built: Built):
    fact = {key_of(r): r for r in built.marts["marts.fct_ad_performance_daily"]}

    def row(point):
        c, day = point
        return fact[(day, c.workspace_id, c.platform, c.account_id, c.campaign_id)]

    # Meta: only the configured action type counts, not purchase + omni_purchase + pixel
    c, day = META_DIFFERING_DUPLICATES
    t = day_truth(c, day, restated=True)
    assert t.conversions > 0
    assert row(META_DIFFERING_DUPLICATES)["conversions"] == t.conversions
    assert row(META_DIFFERING_DUPLICATES)["conversion_value"] == t.conversion_value
    # Meta: no actions at all -> 0
    assert row(META_NO_ACTIONS)["conversions"] == 0
    assert row(META_NO_ACTIONS)["conversion_value"] == 0
    # Google: omitted clicks/conversions -> 0, cost still converted from micros
    no_clicks = row(GOOGLE_NO_CLICKS)
    assert (
        no_clicks["clicks"],
        no_clicks["conversions"],
        no_clicks["conversion_value"],
    ) == (0, 0, 0)
    assert no_clicks["spend"] > 0 and no_clicks["impressions"] > 0
    # Google: no metrics object at all -> a row of zeros
    empty = row(GOOGLE_NO_METRICS)
    assert (
        empty["spend"],
        empty["impressions"],
        empty["clicks"],
        empty["conversions"],
    ) == (0, 0, 0, 0)
    # The later extraction (restated conversions) wins over the earlier one for overlapping days
    c = CAMPAIGNS[0]
    overlap_day = START + timedelta(days=25)
    restated = day_truth(c, overlap_day, restated=True)
    first = day_truth(c, overlap_day, restated=False)
    assert restated.conversions != first.conversions
    assert (
        fact[(overlap_day, c.workspace_id, c.platform, c.account_id, c.campaign_id)][
            "conversions"
        ]
        == restated.conversions
    )


def test_kpis_match_an_independent_computation(built: Built):
    truth = expected_truth()
    by_campaign: dict[tuple, dict[date, DayTruth]] = defaultdict(dict)
    for (day, *campaign_key), t in truth.items():
        by_campaign[tuple(campaign_key)][day] = t

    def sums(campaign_key, day, days, offset=0):
        window = [
            t
            for d, t in by_campaign[campaign_key].items()
            if day - timedelta(days=days - 1 + offset)
            <= d
            <= day - timedelta(days=offset)
        ]
        if not window:
            return None
        return DayTruth(
            sum(t.impressions for t in window),
            sum(t.clicks for t in window),
            sum(t.spend for t in window),
            sum(t.conversions for t in window),
            sum(t.conversion_value for t in window),
        )

    def kpis(s: DayTruth) -> dict:
        cpm = ratio(s.spend, s.impressions)
        return {
            "ctr": ratio(s.clicks, s.impressions),
            "cpc": ratio(s.spend, s.clicks),
            "cpm": None if cpm is None else cpm * 1000,
            "cvr": ratio(s.conversions, s.clicks),
            "cpa": ratio(s.spend, s.conversions),
            "roas": ratio(s.conversion_value, s.spend),
            "acos": ratio(s.spend, s.conversion_value),
        }

    rows = built.marts["marts.mart_campaign_kpis_daily"]
    assert {key_of(r) for r in rows} == set(truth)
    checked_gap_window = False
    for row in rows:
        campaign_key = key_of(row)[1:]
        day = row["date_day"]
        expected = kpis(truth[key_of(row)])
        for suffix, days in (("7d", 7), ("28d", 28)):
            s = sums(campaign_key, day, days)
            expected[f"spend_{suffix}"] = s.spend
            expected[f"impressions_{suffix}"] = s.impressions
            expected[f"clicks_{suffix}"] = s.clicks
            expected[f"conversions_{suffix}"] = s.conversions
            expected[f"conversion_value_{suffix}"] = s.conversion_value
            expected.update({f"{k}_{suffix}": v for k, v in kpis(s).items()})
        previous = sums(campaign_key, day, 7, offset=7)
        expected["spend_prev_7d"] = previous.spend if previous else None
        expected["roas_prev_7d"] = (
            ratio(previous.conversion_value, previous.spend) if previous else None
        )
        expected["spend_wow_change"] = (
            ratio(expected["spend_7d"] - previous.spend, previous.spend)
            if previous
            else None
        )
        expected["roas_wow_change"] = (
            ratio(
                expected["roas_7d"] - expected["roas_prev_7d"], expected["roas_prev_7d"]
            )
            if previous and expected["roas_7d"] is not None and expected["roas_prev_7d"]
            else None
        )
        for column, value in expected.items():
            assert close(row[column], value), (column, row[column], value, key_of(row))
        # a window right after the skipped days must not reach back further than 7 calendar days
        if row["campaign_id"] == CAMPAIGNS[1].campaign_id and day == START + timedelta(
            days=15
        ):
            present = [
                d
                for d in by_campaign[campaign_key]
                if day - timedelta(days=6) <= d <= day
            ]
            assert len(present) == 4  # days 9, 10 and 11 are missing
            checked_gap_window = True
    assert checked_gap_window
    # zero denominators give null, not an error
    c, day = GOOGLE_NO_METRICS
    empty = next(
        r
        for r in rows
        if key_of(r) == (day, c.workspace_id, c.platform, c.account_id, c.campaign_id)
    )
    assert all(
        empty[k] is None for k in ("ctr", "cpc", "cpm", "cvr", "cpa", "roas", "acos")
    )


def expected_anomalies() -> dict[tuple, dict]:
    """mart_anomalies recomputed from the truth with the seeded world's detector settings."""
    v = DETECTOR_VARS
    truth = expected_truth()
    metrics = {
        # metric: (direction, value, has_min_volume, needs a converting baseline)
        "spend": (
            "up",
            lambda t: t.spend,
            lambda t: t.spend >= v["anomaly_min_spend"],
            False,
        ),
        "ctr": (
            "down",
            lambda t: ratio(t.clicks, t.impressions),
            lambda t: t.impressions >= v["anomaly_min_impressions"],
            False,
        ),
        "cvr": (
            "down",
            lambda t: ratio(t.conversions, t.clicks),
            lambda t: t.clicks >= v["anomaly_min_clicks"],
            False,
        ),
        "cpa": (
            "up",
            lambda t: ratio(t.spend, t.conversions),
            lambda t: t.spend >= v["anomaly_min_spend"],
            True,
        ),
        "roas": (
            "down",
            lambda t: ratio(t.conversion_value, t.spend),
            lambda t: t.spend >= v["anomaly_min_spend"],
            True,
        ),
    }
    out = {}
    for (day, *campaign_key), t in truth.items():
        for metric, (
            direction,
            value_of,
            volume_ok,
            needs_conversions,
        ) in metrics.items():
            value = value_of(t)
            history = []
            for back in range(1, v["anomaly_window_days"] + 1):
                h = truth.get((day - timedelta(days=back), *campaign_key))
                if h is not None and value_of(h) is not None and volume_ok(h):
                    history.append(h)
            values = [float(value_of(h)) for h in history]
            median = statistics.median(values) if values else None
            mad = (
                statistics.median([abs(x - median) for x in values]) if values else None
            )
            baseline_conversions = (
                statistics.median([float(h.conversions) for h in history])
                if history
                else None
            )
            is_scored = bool(
                value is not None
                and volume_ok(t)
                and len(history) >= v["anomaly_min_history_days"]
                and mad > 0
                and (
                    not needs_conversions
                    or baseline_conversions >= v["anomaly_min_conversions"]
                )
            )
            scale = max(mad, v["anomaly_min_relative_mad"] * abs(median)) if is_scored else None
            z = (float(value) - median) / (1.4826 * scale) if is_scored else None
            threshold = v["anomaly_z_threshold"]
            is_anomaly = is_scored and (
                z > threshold if direction == "up" else z < -threshold
            )
            out[(day, *campaign_key, metric)] = {
                "value": value,
                "direction": direction,
                "history_days": len(history),
                "baseline_median": median,
                "baseline_mad": mad,
                "robust_z": z,
                "is_scored": is_scored,
                "is_anomaly": is_anomaly,
            }
    return out


def test_anomalies_match_an_independent_computation(built: Built):
    expected = expected_anomalies()
    rows = [r for r in built.marts["marts.mart_anomalies"] if r["entity_type"] == "campaign"]
    # 40 days never reach the day-of-week method's history: every point is scored on all days
    assert {r["scoring_method"] for r in rows} == {"all_days"}
    actual = {(*key_of(r), r["metric"]): r for r in rows}
    assert len(actual) == len(rows) == len(expected)
    assert set(actual) == set(expected)
    for key, exp in expected.items():
        row = actual[key]
        for column, value in exp.items():
            if column in ("direction", "history_days", "is_scored", "is_anomaly"):
                assert row[column] == value, (key, column, row[column], value)
            else:
                assert close(row[column], value, rel=1e-7), (
                    key,
                    column,
                    row[column],
                    value,
                )
    assert len({r["anomaly_id"] for r in rows}) == len(rows)
    assert sum(r["is_scored"] for r in rows) > len(rows) // 3


def test_injected_anomalies_are_flagged_and_a_normal_day_is_not(built: Built):
    rows = [r for r in built.marts["marts.mart_anomalies"] if r["entity_type"] == "campaign"]

    def points(point):
        c, day = point
        return {
            r["metric"]: r
            for r in rows
            if key_of(r)
            == (day, c.workspace_id, c.platform, c.account_id, c.campaign_id)
        }

    spike = points(SPEND_SPIKE)["spend"]
    assert spike["is_scored"] and spike["is_anomaly"] and spike["direction"] == "up"
    assert spike["robust_z"] > 10
    # the spike is not part of its own baseline
    assert spike["baseline_median"] < spike["value"] / 3

    collapse = points(CTR_COLLAPSE)["ctr"]
    assert (
        collapse["is_scored"]
        and collapse["is_anomaly"]
        and collapse["direction"] == "down"
    )
    assert collapse["robust_z"] < -10

    normal = points(NORMAL_POINT)
    assert set(normal) == {"spend", "ctr", "cvr", "cpa", "roas"}
    assert all(r["is_scored"] for r in normal.values())
    assert not any(r["is_anomaly"] for r in normal.values())

    # the tiny campaign is below every volume guardrail: rows, never scored
    tiny = [r for r in rows if r["campaign_id"] == CAMPAIGNS[3].campaign_id]
    assert tiny and not any(r["is_scored"] or r["is_anomaly"] for r in tiny)
    assert all(r["robust_z"] is None for r in tiny)

    # injected days aside, the noise in the data never crosses the threshold for spend
    flagged_spend = {
        (r["date_day"], r["campaign_id"])
        for r in rows
        if r["metric"] == "spend" and r["is_anomaly"]
    }
    assert flagged_spend == {(SPEND_SPIKE[1], SPEND_SPIKE[0].campaign_id)}


def test_rebuild_gives_identical_marts(built: Built, pg_server):
    dbname = built.dsn.split("dbname=")[1].split()[0]
    run_dbt(BUILD, dbt_env(pg_server.port, dbname, pg_server.password), built.workdir)
    assert snapshot_marts(built.dsn) == built.marts


def test_rows_that_cannot_be_completed_are_kept_out_quarantined_and_alerted(pg_server, tmp_path):
    """No silent null conversions, and no failing build for everyone: a day without an FX rate, an account
    whose currency the seed does not know and an account missing from the registry keep their rows out of
    the fact, listed with the reason; the other accounts build; the data_quality step quarantines them once
    and alerts each workspace concerned."""
    from ads_elt.alerts import health

    dbname = pg_server.create_database(prefix="dbtfx")
    dsn = pg_server.dsn(dbname)
    env = dbt_env(pg_server.port, dbname, pg_server.password)
    yen = ("yen_shop", "google_ads", "9999999999", "Yen Search", "JPY", "Asia/Tokyo", "USD")
    load_database(dsn, with_raw=False, accounts=[ACCOUNTS[1], ACCOUNTS[3], yen])  # USD/USD, GBP/EUR, JPY/USD
    nw_search, lumen_search = CAMPAIGNS[2], CAMPAIGNS[5]
    yen_search = Campaign("yen_shop", "google_ads", "9999999999", "JPY", "901", "Yen Search", 1000, 0.02, 0.05, 15.0, 90.0)
    ghost = Campaign("ghost_ws", "google_ads", "8888888888", "USD", "801", "Ghost", 1000, 0.02, 0.05, 15.0, 90.0)
    before_first_rate, normal_day = date(2023, 12, 15), date(2025, 1, 10)
    truth = DayTruth(1000, 20, Decimal(15), Decimal(2), Decimal(90))
    rows = [(nw_search, normal_day), (lumen_search, before_first_rate), (lumen_search, normal_day), (yen_search, normal_day), (ghost, normal_day)]
    conn = psycopg2.connect(dsn)
    with conn, conn.cursor() as cur:
        for campaign, day in rows:
            cur.execute(
                "insert into raw.google_ads__campaign_performance "
                "(workspace_id, account_id, report_date, payload, sync_run_id, window_start, window_end, extracted_at) "
                "values (%s, %s, %s, %s, 'run-1', %s, %s, %s)",
                (campaign.workspace_id, campaign.account_id, day, json.dumps(google_payload(campaign, day, truth)), day, day,
                 datetime(2025, 1, 11, tzinfo=UTC)),
            )  # fmt: skip
    conn.close()
    result = run_dbt(
        ["build", "--select", "+fct_ad_performance_daily", "+mart_ad_performance_exceptions", "--indirect-selection", "cautious"],
        env,
        tmp_path / "dbt",
        check=False,
    )
    assert result.returncode == 0, result.stdout[-6000:]
    statuses = {r["unique_id"]: r["status"] for r in run_results(tmp_path / "dbt")}
    assert not {u for u, st in statuses.items() if st in ("fail", "error")}
    warned = {u for u, st in statuses.items() if st == "warn"}
    assert any("relationships_stg_ops__workspace_accounts_currency" in u for u in warned), warned  # JPY is not in the seed
    fact = fetch(dsn, "select workspace_id, date_day, spend_reporting from marts.fct_ad_performance_daily order by 1, 2")
    assert [(r["workspace_id"], r["date_day"]) for r in fact] == [("lumen_eu", normal_day), ("northwind_us", normal_day)]
    assert all(r["spend_reporting"] is not None for r in fact)
    kept_out = fetch(dsn, "select workspace_id, date_day, exception_reason, detail from marts.mart_ad_performance_exceptions order by 1, 2")
    assert [(r["workspace_id"], r["date_day"], r["exception_reason"]) for r in kept_out] == [
        ("ghost_ws", normal_day, "unregistered_account"),
        ("lumen_eu", before_first_rate, "no_fx_rate"),
        ("yen_shop", normal_day, "no_fx_rate"),
    ]
    assert kept_out[1]["detail"] == f"no GBP -> EUR rate on {before_first_rate} in the fx_rates seed"
    # The data_quality step: into ops.quarantine once, one data_incomplete alert per workspace concerned.
    read, write = psycopg2.connect(dsn), psycopg2.connect(dsn)
    try:
        new = health.quarantine_kept_out_rows(read, write, "run-2")
        assert health.quarantine_kept_out_rows(read, write, "run-3") == {}  # already quarantined: not again
    finally:
        read.close()
        write.close()
    assert new == {"ghost_ws": {"unregistered_account": 1}, "lumen_eu": {"no_fx_rate": 1}, "yen_shop": {"no_fx_rate": 1}}
    quarantined = fetch(dsn, "select workspace_id, report_date, reason, check_name, sync_run_id from ops.quarantine order by 1")
    assert [(q["workspace_id"], q["report_date"], q["check_name"], q["sync_run_id"]) for q in quarantined] == [
        ("ghost_ws", normal_day, "mart_ad_performance_exceptions", "run-2"),
        ("lumen_eu", before_first_rate, "mart_ad_performance_exceptions", "run-2"),
        ("yen_shop", normal_day, "mart_ad_performance_exceptions", "run-2"),
    ]
    assert quarantined[1]["reason"].startswith("no_fx_rate: no GBP -> EUR rate on")
    alerts = health.kept_out_alerts(new, "run-2", normal_day)
    assert [(a.workspace_id, a.metric) for a in alerts] == [(w, "data_incomplete") for w in ("ghost_ws", "lumen_eu", "yen_shop")]
    assert "1 no_fx_rate" in alerts[1].message and "workspace_id = 'lumen_eu'" in alerts[1].message


def test_parse_needs_no_database(tmp_path):
    env = dbt_env()
    env["DBT_PORT"] = "1"  # nothing listens there: parse must not connect
    run_dbt(["parse"], env, tmp_path)
    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    models = {
        n["name"]: n
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model"
    }
    expected_schemas = {
        "stg_meta__insights": "staging",
        "stg_google_ads__campaign_performance": "staging",
        "stg_ops__workspace_accounts": "staging",
        "int_ad_performance_unioned": "intermediate",
        "int_fx_rates_daily": "intermediate",
        "int_anomaly_points_unpivoted": "intermediate",
        "int_alert_rule_evaluations": "intermediate",
        "fct_ad_performance_daily": "marts",
        "mart_campaign_kpis_daily": "marts",
        "mart_anomalies": "marts",
        "mart_alerts": "marts",
        "mart_budget_recommendations": "marts",
    }
    assert {
        name: models[name]["schema"] for name in expected_schemas
    } == expected_schemas
    assert models["mart_anomalies"]["config"]["materialized"] == "incremental"
    # the rules' inputs and verdicts too: as views they were computed over the whole history in every daily run
    assert models["int_alert_rule_inputs"]["config"]["materialized"] == "incremental"
    assert models["int_alert_rule_evaluations"]["config"]["materialized"] == "incremental"
    assert models["stg_meta__insights"]["config"]["materialized"] == "view"
    unit_tests = manifest.get("unit_tests", {})
    assert len(unit_tests) >= 7
    assert {s["source_name"] for s in manifest["sources"].values()} == {
        "meta",
        "google_ads",
        "tiktok",
        "snapchat",
        "linkedin",
        "amazon_ads",
        "file_drop",
        "shopify",
        "woocommerce",
        "salla",
        "zid",
        "ops",
        "amazon_stream",
    }


# --------------------------------------------------------------------------- KPIs at every grain, docs in the warehouse

GRAIN_WINDOWS = {"7d": 7, "28d": 28, "30d": 30, "90d": 90}
MEASURES = ("spend", "impressions", "clicks", "conversions", "conversion_value")
RATIO_OF = {
    "ctr": ("clicks", "impressions", 1), "cpc": ("spend", "clicks", 1), "cpm": ("spend", "impressions", 1000),
    "cvr": ("conversions", "clicks", 1), "cpa": ("spend", "conversions", 1), "roas": ("conversion_value", "spend", 1),
    "acos": ("spend", "conversion_value", 1),
}  # fmt: skip


def grain_expected(fact: list[dict], keys: tuple[str, ...], reporting: bool) -> dict[tuple, dict]:
    """Each grain's KPI row recomputed from the fact: daily sums, every window and its previous period, ratios of sums."""
    daily: dict[tuple, dict[date, dict]] = defaultdict(lambda: defaultdict(lambda: dict.fromkeys(MEASURES, Decimal(0))))
    for r in fact:
        day = daily[tuple(r[k] for k in keys)][r["date_day"]]
        values = {**{m: r[m] for m in MEASURES}, **({"spend": r["spend_reporting"], "conversion_value": r["conversion_value_reporting"]} if reporting else {})}
        for m in MEASURES:
            day[m] += Decimal(values[m] or 0)

    def window(days: dict, day: date, n: int, offset: int = 0) -> dict | None:
        span = [day - timedelta(days=offset + k) for k in range(n)]
        present = [days[d] for d in span if d in days]
        return {m: sum(p[m] for p in present) for m in MEASURES} if present else None

    def ratios(sums: dict | None, suffix: str) -> dict:
        out = {f"{m}{suffix}": (sums[m] if sums else None) for m in MEASURES}
        for name, (num, den, factor) in RATIO_OF.items():
            out[f"{name}{suffix}"] = None if not sums or not sums[den] else sums[num] * factor / sums[den]
        return out

    out = {}
    for key, days in daily.items():
        for day in days:
            row = ratios(days[day], "")
            for suffix, n in GRAIN_WINDOWS.items():
                row.update(ratios(window(days, day, n), f"_{suffix}"))
                row.update(ratios(window(days, day, n, offset=n), f"_prev_{suffix}"))
            out[(day, *key)] = row
    return out


@pytest.mark.parametrize(
    ("mart", "keys", "reporting"),
    [
        ("mart_account_kpis_daily", ("workspace_id", "platform", "account_id"), False),
        ("mart_platform_kpis_daily", ("workspace_id", "platform"), True),
    ],
)
def test_account_and_platform_kpis_equal_a_recomputation_from_the_fact(built: Built, mart, keys, reporting):
    want = grain_expected(built.marts["marts.fct_ad_performance_daily"], keys, reporting)
    rows = fetch(built.dsn, f"select * from marts.{mart}")
    got = {(r["date_day"], *(r[k] for k in keys)): r for r in rows}
    assert set(got) == set(want) and len(rows) == len(want)
    checked = 0
    for key, expected in want.items():
        for column, value in expected.items():
            assert close(got[key][column], value), (mart, key, column, got[key][column], value)
            checked += 1
    assert checked > 1000
    currency = "reporting_currency" if reporting else "currency"
    fact_currency = {tuple(r[k] for k in keys): r[currency] for r in built.marts["marts.fct_ad_performance_daily"]}
    assert all(r["currency"] == fact_currency[tuple(r[k] for k in keys)] for r in rows)


def test_every_mart_and_column_is_described_in_the_docs_and_in_postgres(built: Built):
    manifest = json.loads((built.workdir / "target" / "manifest.json").read_text())
    described = {
        n["name"]: {c: (v.get("description") or "").strip() for c, v in n["columns"].items()}
        for n in manifest["nodes"].values()
        if n["resource_type"] == "model" and n["schema"] == "marts"
    }
    columns = fetch(
        built.dsn,
        "select c.table_name, c.column_name, obj_description(format('marts.%I', c.table_name)::regclass) as table_comment, "
        "col_description(format('marts.%I', c.table_name)::regclass, c.ordinal_position) as column_comment "
        "from information_schema.columns c join information_schema.tables t using (table_schema, table_name) "
        "where c.table_schema = 'marts' and t.table_type = 'BASE TABLE'",
    )
    assert {c["table_name"] for c in columns} >= {"mart_account_kpis_daily", "mart_platform_kpis_daily", "mart_workspace_kpis_daily"}
    assert {c["table_name"] for c in columns} - set(described) == {"build_log"}  # dbt's on-run-end keeps it, not a model
    undocumented = [
        (c["table_name"], c["column_name"])
        for c in columns
        if c["table_name"] in described and not described[c["table_name"]].get(c["column_name"])
    ]
    assert undocumented == []
    uncommented = [(c["table_name"], c["column_name"]) for c in columns if not c["column_comment"] or not c["table_comment"]]
    assert uncommented == []


def test_a_breaking_change_to_a_public_mart_fails_the_build_on_its_contract(built: Built, pg_server):
    """Fewer windows (a change that drops columns) is refused by the enforced contract; the mart stays as it was."""
    before = fetch(built.dsn, "select count(*) as n from marts.mart_platform_kpis_daily")
    dbname = built.dsn.split("dbname=")[1].split()[0].strip("'")
    broken = run_dbt(
        ["run", "-s", "mart_platform_kpis_daily", "--vars", '{"kpi_grain_windows": {"7d": 7}}'],
        dbt_env(pg_server.port, dbname, pg_server.password),
        built.workdir / "contract",
        check=False,
    )
    assert broken.returncode != 0
    assert "contract" in (broken.stdout + broken.stderr).lower()
    assert fetch(built.dsn, "select count(*) as n from marts.mart_platform_kpis_daily") == before


def test_a_platform_outside_the_projects_ad_platforms_fails_accepted_ad_platforms(built: Built, pg_server):
    """The platforms come from the graph (the staging folders of the campaign-day models): every one of them passes,
    another value fails, and the extras mart accepts only the platforms that report extras."""
    from e2e_harness import copy_database

    ran = {r["unique_id"]: r["status"] for r in built.results if ".accepted_ad_platforms_" in r["unique_id"]}
    assert len(ran) == 6 and set(ran.values()) == {"pass"}, ran
    dbname = built.dsn.split("dbname=")[1].split()[0].strip("'")
    broken = copy_database(pg_server, dbname, f"{dbname}_platforms")
    conn = psycopg2.connect(pg_server.dsn(broken))
    try:
        with conn, conn.cursor() as cur:
            cur.execute("insert into seeds.utm_source_platforms (utm_source, platform) values ('myspace', 'myspace')")
            cur.execute(  # Google Ads reports no platform-specific metrics
                "update marts.fct_ad_performance_platform_extras set platform = 'google_ads' "
                "where ctid = (select ctid from marts.fct_ad_performance_platform_extras limit 1)"
            )
    finally:
        conn.close()
    workdir = built.workdir / "platforms"
    run_dbt(["test", "--select", "test_name:accepted_ad_platforms"], dbt_env(pg_server.port, broken, pg_server.password), workdir, check=False)
    failed = {r["unique_id"].split(".")[2] for r in run_results(workdir) if r["status"] == "fail"}
    assert failed == {
        "accepted_ad_platforms_utm_source_platforms_platform",
        "accepted_ad_platforms_fct_ad_performance_platform_extras_platform__True",
    }


def test_the_dbt_readme_quotes_the_rules_and_vars_as_the_project_sets_them():
    """The rules table is the seed's thresholds and volumes, the vars table dbt_project.yml's defaults: no stale numbers."""
    import re

    readme = (PROJECT / "README.md").read_text()
    with open(PROJECT / "seeds" / "alert_rules.csv", newline="") as f:
        rules = list(csv.DictReader(f))
    for r in rules:
        threshold = r["threshold"] + (f", {r['secondary_threshold']}" if r["secondary_threshold"] else "")
        volumes = f"{r['min_spend']}, {r['min_impressions']}, {r['min_conversions']}"
        row = re.search(rf"^\| `{r['rule_id']}` \| [^|]+ \| ([^|]+) \| ([^|]+) \| ([^|]+) \|$", readme, re.M)
        assert row, r["rule_id"]
        assert [c.strip() for c in row.groups()] == [threshold, volumes, r["is_enabled"]], r["rule_id"]
    project_vars = yaml.safe_load((PROJECT / "dbt_project.yml").read_text())["vars"]
    quoted = 0
    for names, default in re.findall(r"^\| (`[a-z_0-9]+`(?:, `[a-z_0-9]+`)*) \| ([^|]+) \|$", readme, re.M):
        keys = re.findall(r"`([a-z_0-9]+)`", names)
        if not all(k in project_vars and isinstance(project_vars[k], (int, float, str)) for k in keys) or "(" in default:
            continue
        values = [v.strip().strip("`") for v in default.split(", ")] if len(keys) > 1 else [default.strip().strip("`")]
        expected = ["empty" if project_vars[k] == "" else str(project_vars[k]) for k in keys]
        assert values == expected, names
        quoted += 1
    assert quoted >= 15
