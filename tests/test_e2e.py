"""End to end: the ads_daily DAG through `airflow dags test`, real Postgres, real dbt, sandbox APIs.

The tests in this module share one warehouse and run in order, like the days
of a real deployment: first sync, rerun, restatement, a failing platform, a
bad registry.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from e2e_harness import E2EStack

pytestmark = pytest.mark.e2e

REPORT_DATE = date(2026, 11, 20)
HISTORY_DAYS = 90
ACCOUNTS = {
    ("meta", "1000000001"): "northwind_us",
    ("google_ads", "1234567890"): "northwind_us",
    ("tiktok", "7100000000000001"): "northwind_us",
    ("amazon_ads", "3100000000000001"): "northwind_us",
    ("meta", "2000000002"): "lumen_eu",
    ("google_ads", "2345678901"): "lumen_eu",
    ("linkedin", "508000001"): "lumen_eu",
    ("snapchat", "8f2b7a4e-5c1d-4e3a-9b6f-2d8c0e1a7b3c"): "harbor_uk",
    ("file_drop", "harbor_pinterest"): "harbor_uk",
    ("snapchat", "5c0e7d1a-9b2f-4a6e-8d3c-1f4b2a6e9c70"): "souq_sa",
    ("tiktok", "7100000000000002"): "souq_sa",
}
CURRENCIES = {"northwind_us": "USD", "lumen_eu": "EUR", "harbor_uk": "GBP", "souq_sa": "SAR"}
STORES = {
    ("shopify", "northwind-outdoor"): "raw.shopify__orders",
    ("shopify", "harbor-tea"): "raw.shopify__orders",
    ("woocommerce", "lumen-home"): "raw.woocommerce__orders",
    ("salla", "1456832901"): "raw.salla__orders",
    ("zid", "38211"): "raw.zid__orders",
}
RAW_TABLES = (
    "raw.meta__insights",
    "raw.google_ads__campaign_performance",
    "raw.tiktok__campaign_report",
    "raw.snapchat__campaign_stats",
    "raw.linkedin__ad_analytics",
    "raw.amazon_ads__sp_campaigns",
    "raw.file_drop__performance",
    *sorted(set(STORES.values())),
)


@pytest.fixture(scope="module")
def world():
    from sandbox.world import World

    return World.demo(REPORT_DATE)


@pytest.fixture(scope="module")
def stack(pg_server, world, tmp_path_factory):
    s = E2EStack.start(pg_server, world, tmp_path_factory.mktemp("e2e"), today=REPORT_DATE + timedelta(days=1))
    s.drop_demo_files(world, REPORT_DATE - timedelta(days=HISTORY_DAYS - 1), REPORT_DATE)
    yield s
    s.stop()


@pytest.fixture(scope="module")
def first_run(stack):
    run = stack.run_dag(REPORT_DATE)
    assert run.succeeded, run.output[-6000:]
    return run


def fact_rows(stack, platform, account_id):
    return {
        (r[0], r[1]): r[2:]
        for r in stack.query(
            "select campaign_id, date_day, spend, impressions, clicks, conversions, conversion_value, currency "
            "from marts.fct_ad_performance_daily where platform = %s and account_id = %s",
            (platform, account_id),
        )
    }


def snapshot(stack):
    out = {}
    for t in RAW_TABLES:
        out[t] = stack.query(f"select count(*), count(distinct (account_id, report_date, payload::text)) from {t}")[0]
    out["fact"] = stack.query(
        "select count(*), sum(spend), sum(clicks), sum(conversions), sum(conversion_value) from marts.fct_ad_performance_daily"
    )[0]
    # KPIs are double precision: compare them rounded, so summation order cannot differ in the last bit.
    out["kpis"] = stack.query(
        "select count(*), round(sum(roas_28d)::numeric, 6), round(sum(ctr)::numeric, 9) from marts.mart_campaign_kpis_daily"
    )[0]
    out["anomalies"] = stack.query("select count(*), count(*) filter (where is_anomaly) from marts.mart_anomalies")[0]
    return out


def test_first_sync_lands_every_campaign_day_with_the_worlds_numbers(stack, world, first_run):
    since = REPORT_DATE - timedelta(days=HISTORY_DAYS - 1)
    as_of = REPORT_DATE + timedelta(days=1)
    for (platform, account_id), workspace in ACCOUNTS.items():
        truth = world.truth_rows(platform, account_id, since, REPORT_DATE, as_of=as_of)
        facts = fact_rows(stack, platform, account_id)
        campaigns = len(world.account(platform, account_id).campaigns)
        assert len(truth) == len(facts) == HISTORY_DAYS * campaigns, (platform, account_id)
        for t in truth:
            f = facts[(t["campaign_id"], t["date"])]
            spend, impressions, clicks, conversions, value, currency = f
            assert float(spend) == pytest.approx(t["spend"], abs=0.005)
            assert impressions == t["impressions"]
            assert clicks == t["clicks"]
            assert float(conversions) == pytest.approx(t["conversions"], abs=1e-6)
            assert float(value) == pytest.approx(t["conversion_value"], abs=0.005)
            assert currency == CURRENCIES[workspace]


def test_first_sync_lands_every_order_changed_in_the_initial_history_once(stack, world, first_run):
    from sandbox.stores import StoreWorld

    since = REPORT_DATE - timedelta(days=HISTORY_DAYS - 1)
    for (platform, store_id), table in STORES.items():
        want = {
            o["order_id"]: o["updated_local"].date()
            for o in StoreWorld(world).orders(platform, store_id, as_of=REPORT_DATE + timedelta(days=1))
            if since <= o["updated_local"].date() <= REPORT_DATE
        }
        rows = stack.query(f"select payload->>'id', report_date from {table} where account_id = %s", (store_id,))
        assert len(rows) == len(want) and dict(rows) == want, (platform, store_id)


def test_kpis_equal_the_formulas_recomputed_from_the_fact(stack, world, first_run):
    facts = stack.query(
        "select workspace_id, platform, account_id, campaign_id, date_day, spend, impressions, clicks, conversions, "
        "conversion_value from marts.fct_ad_performance_daily"
    )
    kpis = {
        r[:5]: r[5:]
        for r in stack.query(
            "select workspace_id, platform, account_id, campaign_id, date_day, ctr, cpc, cpm, cvr, cpa, roas, acos, "
            "roas_7d, ctr_28d from marts.mart_campaign_kpis_daily"
        )
    }
    by_campaign = {}
    for row in facts:
        by_campaign.setdefault(row[:4], {})[row[4]] = [float(v) for v in row[5:]]

    def ratio(a, b):
        return None if b == 0 else a / b

    checked = 0
    for key, days in by_campaign.items():
        for day, (spend, imp, clicks, conv, value) in days.items():
            ctr, cpc, cpm, cvr, cpa, roas, acos, roas_7d, ctr_28d = (None if v is None else float(v) for v in kpis[(*key, day)])
            expected = {
                "ctr": ratio(clicks, imp),
                "cpc": ratio(spend, clicks),
                "cpm": None if imp == 0 else spend / imp * 1000,
                "cvr": ratio(conv, clicks),
                "cpa": ratio(spend, conv),
                "roas": ratio(value, spend),
                "acos": ratio(spend, value),
            }
            got = {"ctr": ctr, "cpc": cpc, "cpm": cpm, "cvr": cvr, "cpa": cpa, "roas": roas, "acos": acos}
            for k, v in expected.items():
                assert got[k] == pytest.approx(v, rel=1e-6), (key, day, k)
            week = [days[d] for d in days if day - timedelta(days=6) <= d <= day]
            assert roas_7d == pytest.approx(ratio(sum(w[4] for w in week), sum(w[0] for w in week)), rel=1e-6)
            month = [days[d] for d in days if day - timedelta(days=27) <= d <= day]
            assert ctr_28d == pytest.approx(ratio(sum(m[2] for m in month), sum(m[1] for m in month)), rel=1e-6)
            checked += 1
    assert checked == HISTORY_DAYS * sum(len(world.account(p, a).campaigns) for p, a in ACCOUNTS)


def test_injected_anomalies_are_flagged_and_alerted_and_normal_days_are_not(stack, world, first_run):
    flagged = stack.query(
        "select platform, account_id, campaign_id, metric, date_day from marts.mart_anomalies where is_anomaly"
    )
    flagged_set = {(p, a, c, m, d) for p, a, c, m, d in flagged}
    expected_metrics = {"ctr_collapse": {"ctr"}, "spend_spike": {"spend", "roas"}}
    anomalous_campaigns = set()
    for anomaly in world.anomalies:
        for metric in expected_metrics[anomaly.kind]:
            assert (anomaly.platform, anomaly.account_id, anomaly.campaign_id, metric, anomaly.day) in flagged_set, anomaly
        anomalous_campaigns.add((anomaly.platform, anomaly.account_id, anomaly.campaign_id))
    # Normal days of the same campaigns raise nothing.
    for p, a, c, m, d in flagged_set:
        if (p, a, c) in anomalous_campaigns:
            assert d == REPORT_DATE, (p, a, c, m, d)
    # Both anomalies reached the alert output of the run.
    alerts = stack.query("select alert_key, message, status from ops.alert_log where date_day = %s", (REPORT_DATE,))
    keys = {k for k, _, _ in alerts}
    for anomaly in world.anomalies:
        assert any(f"|{anomaly.platform}|{anomaly.campaign_id}|" in k for k in keys), anomaly
    assert all(status == "sent" for _, _, status in alerts)
    for _, message, _ in alerts:
        assert message in first_run.output  # no Slack Connection: printed to the task log
    assert "Alert" in first_run.output or alerts


def test_rerunning_the_same_date_changes_nothing_and_sends_no_second_alert(stack, first_run):
    before = snapshot(stack)
    alerts_before = stack.query("select alert_key, sent_at from ops.alert_log order by 1")
    rerun = stack.run_dag(REPORT_DATE)
    assert rerun.succeeded, rerun.output[-6000:]
    assert snapshot(stack) == before
    assert stack.query("select alert_key, sent_at from ops.alert_log order by 1") == alerts_before
    for _, message in stack.query("select alert_key, message from ops.alert_log"):
        assert message not in rerun.output


def test_a_restated_day_shows_the_new_value_after_the_next_run(stack, world, first_run):
    platform, account_id = "meta", "2000000002"
    day = REPORT_DATE
    campaign = world.truth_rows(platform, account_id, day, day, as_of=day + timedelta(days=1))[0]["campaign_id"]
    old = {r["campaign_id"]: r for r in world.truth_rows(platform, account_id, day, day, as_of=day + timedelta(days=1))}
    new = {r["campaign_id"]: r for r in world.truth_rows(platform, account_id, day, day, as_of=day + timedelta(days=3))}
    assert new[campaign]["conversions"] != old[campaign]["conversions"]  # the world restates it
    stack.admin("POST", "clock", {"today": (day + timedelta(days=3)).isoformat()})
    try:
        run = stack.run_dag(REPORT_DATE)
        assert run.succeeded, run.output[-6000:]
    finally:
        stack.admin("POST", "clock", {"today": (day + timedelta(days=1)).isoformat()})
    conv = stack.query(
        "select conversions, conversion_value from marts.fct_ad_performance_daily "
        "where platform = %s and account_id = %s and campaign_id = %s and date_day = %s",
        (platform, account_id, campaign, day),
    )
    assert len(conv) == 1
    assert float(conv[0][0]) == pytest.approx(new[campaign]["conversions"])
    assert float(conv[0][1]) == pytest.approx(new[campaign]["conversion_value"], abs=0.005)


def test_a_platform_answering_garbage_fails_alone_and_loses_nothing(stack, first_run):
    before_meta = stack.query("select count(*), sum(spend) from marts.fct_ad_performance_daily where account_id = '1000000001'")
    before_google_loaded = stack.query(
        "select max(extracted_at) from raw.google_ads__campaign_performance where account_id = '1234567890'"
    )[0][0]
    stack.admin("POST", "faults", {"platform": "meta", "account_id": "1000000001", "kind": "garbage", "count": None})
    try:
        run = stack.run_dag(REPORT_DATE)
    finally:
        stack.admin("DELETE", "faults")
    assert not run.succeeded
    # The failure names the platform, the account and the problem.
    state = stack.query(
        "select status, last_error from ops.sync_state where platform = 'meta' and account_id = '1000000001'"
    )[0]
    assert state[0] == "failed"
    assert "1000000001" in state[1] and "JSON" in state[1]
    assert "1000000001" in run.output
    # The failing account's data already loaded is intact; the other platform's fresh data reached raw and marts.
    assert stack.query("select count(*), sum(spend) from marts.fct_ad_performance_daily where account_id = '1000000001'") == before_meta
    after_google_loaded = stack.query(
        "select max(extracted_at) from raw.google_ads__campaign_performance where account_id = '1234567890'"
    )[0][0]
    assert after_google_loaded > before_google_loaded
    assert stack.query("select status from ops.sync_state where account_id = '1234567890'")[0][0] == "ok"
    # The next clean run recovers.
    again = stack.run_dag(REPORT_DATE)
    assert again.succeeded, again.output[-6000:]
    assert stack.query("select status from ops.sync_state where account_id = '1000000001'")[0][0] == "ok"


def test_a_bad_registry_stops_the_run_before_any_write(stack, first_run, tmp_path):
    bad = tmp_path / "workspaces.yml"
    text = (stack.env.get("ADS_ELT_REGISTRY") and open(stack.env["ADS_ELT_REGISTRY"]).read()) or (
        __import__("ads_elt.registry", fromlist=["DEFAULT_REGISTRY"]).DEFAULT_REGISTRY.read_text()
    )
    bad.write_text(text.replace("platform: google_ads", "platform: gogle_ads", 1))
    before = snapshot(stack)
    state_before = stack.query("select * from ops.sync_state order by 1, 2, 3")
    run = stack.run_dag(REPORT_DATE, ADS_ELT_REGISTRY=str(bad))
    assert not run.succeeded
    assert "workspaces[0].accounts[1].platform" in run.output
    assert "'gogle_ads' is not one of meta, google_ads, tiktok, snapchat, linkedin, amazon_ads, file_drop" in run.output
    assert snapshot(stack) == before
    assert stack.query("select * from ops.sync_state order by 1, 2, 3") == state_before
