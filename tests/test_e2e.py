"""End to end: the ads_daily DAG through `airflow dags test`, real Postgres, real dbt, sandbox APIs.

The demo world of the session (tests/e2e_worlds.py) runs like the days of a real
deployment: a first sync, the same date again, the run three days later (with a
platform answering garbage), that day again with a workspace and an account
offboarded, two days later with the account back, and a bad registry. Each test
reads the warehouse as it was right after the run it is about.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from e2e_worlds import (
    BAD_PLATFORM,
    FIRST_TODAY,
    GARBAGE_ACCOUNT,
    HISTORY_DAYS,
    NEXT_DAY,
    NEXT_TODAY,
    REMOVED_ACCOUNT,
    REMOVED_WORKSPACE,
    REPORT_DATE,
    RETURN_DAY,
)

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("demo")]

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


def test_first_sync_lands_every_campaign_day_with_the_worlds_numbers(demo):
    first, world = demo.first, demo.world
    since = REPORT_DATE - timedelta(days=HISTORY_DAYS - 1)
    as_of = REPORT_DATE + timedelta(days=1)
    for (platform, account_id), workspace in ACCOUNTS.items():
        truth = world.truth_rows(platform, account_id, since, REPORT_DATE, as_of=as_of)
        facts = fact_rows(first, platform, account_id)
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


def test_first_sync_lands_every_order_changed_in_the_initial_history_once(demo):
    from sandbox.stores import StoreWorld

    since = REPORT_DATE - timedelta(days=HISTORY_DAYS - 1)
    for (platform, store_id), table in STORES.items():
        want = {
            o["order_id"]: o["updated_local"].date()
            for o in StoreWorld(demo.world).orders(platform, store_id, as_of=FIRST_TODAY)
            if since <= o["updated_local"].date() <= REPORT_DATE
        }
        rows = demo.first.query(f"select payload->>'id', report_date from {table} where account_id = %s", (store_id,))
        assert len(rows) == len(want) and dict(rows) == want, (platform, store_id)


def test_kpis_equal_the_formulas_recomputed_from_the_fact(demo):
    stack, world = demo.first, demo.world
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


def test_injected_anomalies_are_flagged_and_alerted_and_normal_days_are_not(demo):
    stack, world, first_run = demo.first, demo.world, demo.first.run
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
    alerts = stack.query("select alert_key, message, status, suppressed_by from ops.alert_log where date_day = %s", (REPORT_DATE,))
    status = {k: st for k, _, st, _ in alerts}
    for anomaly in world.anomalies:
        assert any(f"|{anomaly.platform}|{anomaly.campaign_id}|" in k and st == "sent" for k, st in status.items()), anomaly
    # Every alert was sent, but a platform's or workspace's total that a part's sent alert explains (same signal).
    held = {k: by for k, _, st, by in alerts if st != "sent"}
    assert held, "the demo's spikes move their platforms' totals too"
    for key, by in held.items():
        ws, platform, entity, signal, day = key.split("|")
        assert entity == "all" and status[by] == "sent", (key, by)
        b_ws, b_platform, b_entity, b_signal, b_day = by.split("|")
        assert (b_ws, b_signal, b_day) == (ws, signal, day), (key, by)
        assert b_entity != "all" or (platform == "all" and b_platform != "all"), (key, by)
        assert platform in ("all", b_platform), (key, by)
    for _, message, st, _ in alerts:
        if st == "sent":
            assert message in first_run.output  # no Slack Connection: printed to the task log
    assert "Alert" in first_run.output or alerts


def test_the_demo_report_names_the_alert_that_says_what_a_held_back_total_would_have(demo, capsys):
    """`make demo`'s Alerts section: a platform total held back beside its campaign's alert names that alert."""
    from demo_report import print_report

    warehouse = demo.first.warehouse
    print_report(warehouse.pg_server.dsn(warehouse.dbname), REPORT_DATE)
    section = capsys.readouterr().out.split("== Alerts ==")[1]
    held = [line for line in section.splitlines() if line.startswith("[not sent, ")]
    assert held, section
    for line in held:
        key = line.removeprefix("[not sent, ").split(" says it]")[0]
        workspace, platform, campaign, _, day = key.split("|")
        assert campaign != "all" and day == REPORT_DATE.isoformat(), line
        assert "All campaigns" in line, line
    assert any(line.startswith("[sent -> ") for line in section.splitlines()), section
    assert "earlier" not in section  # everything was decided by this run


def test_the_demo_report_marks_alerts_an_earlier_run_decided(demo, capsys):
    """A rerun of `make demo` on a kept warehouse (perhaps after an upgrade) prints the alert log's decisions of the
    earlier run as such: the log is history, not what this run's code would decide."""
    from datetime import UTC, datetime

    from demo_report import print_report

    warehouse = demo.first.warehouse
    print_report(warehouse.pg_server.dsn(warehouse.dbname), REPORT_DATE, run_started=datetime.now(UTC))
    section = capsys.readouterr().out.split("== Alerts ==")[1]
    lines = [line for line in section.splitlines() if line.startswith("[")]
    assert lines and all(", by an earlier run]" in line for line in lines), section
    assert f"({len(lines)} of these were decided by an earlier demo run on this warehouse" in section


def test_acos_is_judged_only_where_a_target_applies(demo):
    """The demo's healthy Meta, Google, TikTok, Snapchat and LinkedIn campaigns (ROAS about 3) are never held to an
    ACOS target: the rule applies to Amazon Ads (and where a workspace sets its own target for other platforms)."""
    evaluated = demo.first.query(
        "select distinct workspace_id, platform from intermediate.int_alert_rule_evaluations where rule_id = 'acos_above'"
    )
    assert set(evaluated) == {("northwind_us", "amazon_ads")}
    assert demo.first.query("select count(*) from marts.mart_alerts where rule_id = 'acos_above' and platform <> 'amazon_ads'") == [(0,)]
    # the rule still runs where it belongs: every Amazon campaign-day with enough spend is evaluated
    amazon_days = demo.first.query(
        "select count(*) from marts.fct_ad_performance_daily where platform = 'amazon_ads' and spend >= 100"
    )[0][0]
    judged = demo.first.query("select count(*) from intermediate.int_alert_rule_evaluations where rule_id = 'acos_above'")[0][0]
    assert judged >= amazon_days > 0


def test_rerunning_the_same_date_changes_nothing_and_sends_no_second_alert(demo):
    first, rerun = demo.first, demo.rerun
    assert rerun.run.succeeded, rerun.run.output[-6000:]
    assert snapshot(rerun) == snapshot(first)
    assert rerun.query("select alert_key, sent_at from ops.alert_log order by 1") == first.query(
        "select alert_key, sent_at from ops.alert_log order by 1"
    )
    for _, message in rerun.query("select alert_key, message from ops.alert_log"):
        assert message not in rerun.run.output


def test_a_restated_day_shows_the_new_value_after_the_next_run(demo):
    """Three days later, Meta's 28-day lookback re-pulls REPORT_DATE with its late conversions."""
    world = demo.world
    platform, account_id = "meta", "2000000002"
    day = REPORT_DATE
    old = {r["campaign_id"]: r for r in world.truth_rows(platform, account_id, day, day, as_of=FIRST_TODAY)}
    new = {r["campaign_id"]: r for r in world.truth_rows(platform, account_id, day, day, as_of=NEXT_TODAY)}
    campaign = next(iter(old))
    assert new[campaign]["conversions"] != old[campaign]["conversions"]  # the world restates it
    query = (
        "select conversions, conversion_value from marts.fct_ad_performance_daily "
        "where platform = %s and account_id = %s and campaign_id = %s and date_day = %s"
    )
    before = demo.rerun.query(query, (platform, account_id, campaign, day))
    assert float(before[0][0]) == pytest.approx(old[campaign]["conversions"])
    after = demo.next_day.query(query, (platform, account_id, campaign, day))
    assert len(after) == 1
    assert float(after[0][0]) == pytest.approx(new[campaign]["conversions"])
    assert float(after[0][1]) == pytest.approx(new[campaign]["conversion_value"], abs=0.005)


def test_a_platform_answering_garbage_fails_alone_and_loses_nothing(demo):
    platform, account_id = GARBAGE_ACCOUNT
    before, after, run = demo.rerun, demo.next_day, demo.next_day.run
    account_fact = "select count(*), sum(spend) from marts.fct_ad_performance_daily where platform = %s and account_id = %s"
    google_loaded = "select max(extracted_at) from raw.google_ads__campaign_performance where account_id = '1234567890'"
    assert not run.succeeded
    # The failure names the platform, the account and the problem.
    state = after.query("select status, last_error from ops.sync_state where platform = %s and account_id = %s", (platform, account_id))[0]
    assert state[0] == "failed"
    assert account_id in state[1] and "JSON" in state[1]
    assert account_id in run.output
    # The failing account's data already loaded is intact; the other platforms' fresh data reached raw and marts.
    assert after.query(account_fact, (platform, account_id)) == before.query(account_fact, (platform, account_id))
    assert after.query(google_loaded)[0][0] > before.query(google_loaded)[0][0]
    assert after.query(
        "select count(*) from marts.fct_ad_performance_daily where account_id = '1234567890' and date_day = %s", (NEXT_DAY,)
    )[0][0] > 0
    statuses = dict(((p, a), s) for p, a, s in after.query("select platform, account_id, status from ops.sync_state"))
    assert {k: v for k, v in statuses.items() if k != GARBAGE_ACCOUNT} == {k: "ok" for k in statuses if k != GARBAGE_ACCOUNT}
    # The next clean run recovers.
    again = demo.offboarded
    assert again.run.succeeded, again.run.output[-6000:]
    assert again.query("select status from ops.sync_state where platform = %s and account_id = %s", (platform, account_id))[0][0] == "ok"
    assert again.query(
        "select count(*) from marts.fct_ad_performance_daily where platform = %s and account_id = %s and date_day = %s",
        (platform, account_id, NEXT_DAY),
    )[0][0] > 0


def test_a_bad_registry_stops_the_run_before_any_write(demo):
    run = demo.bad_registry
    assert not run.succeeded
    assert "workspaces[0].accounts[1].platform" in run.output
    assert f"'{BAD_PLATFORM}' is not one of meta, google_ads, tiktok, snapchat, linkedin, amazon_ads, file_drop" in run.output
    assert snapshot(demo.live) == snapshot(demo.returned)
    state = "select * from ops.sync_state order by 1, 2, 3"
    assert demo.live.query(state) == demo.returned.query(state)


def removed_keys(step) -> set[tuple]:
    return {(w, p, a) for w, p, a in step.query("select workspace_id, platform, account_id from ops.workspace_accounts where not active")}


def this_runs(step, before, table: str, columns: str) -> set[tuple]:
    """Rows of an ops table the step's run added (not in the warehouse copy before it)."""
    query = f"select {columns} from ops.{table}"
    return set(step.query(query)) - set(before.query(query))


def test_offboarding_a_workspace_and_an_account_is_a_non_event(demo):
    before, after = demo.next_day, demo.offboarded
    assert after.run.succeeded, after.run.output[-6000:]
    removed_workspace = {(w, p, a) for w, p, a in before.query(
        "select workspace_id, platform, account_id from ops.workspace_accounts where workspace_id = %s", (REMOVED_WORKSPACE,)
    )}  # fmt: skip
    assert {p for _, p, _ in removed_workspace} >= {"snapchat", "tiktok", "salla", "zid"}  # its accounts and its stores
    assert removed_keys(before) == set()
    assert removed_keys(after) == removed_workspace | {REMOVED_ACCOUNT}
    assert after.query("select count(*) from ops.workspace_accounts where not active and deactivated_at is null")[0][0] == 0
    # Their history stays in the marts, with its currency, flagged inactive.
    fact = "select count(*), sum(spend_reporting), min(currency), bool_or(is_active) from marts.fct_ad_performance_daily where workspace_id = %s and platform = %s and account_id = %s"
    kpis = "select count(*), bool_or(is_active) from marts.mart_campaign_kpis_daily where workspace_id = %s and platform = %s and account_id = %s"
    for key in removed_workspace | {REMOVED_ACCOUNT}:
        if key[1] in ("salla", "zid"):
            continue
        rows, spend, currency, active = after.query(fact, key)[0]
        assert (rows, spend) == before.query(fact, key)[0][:2] and rows > 0 and currency is not None, key
        assert active is False, key
        assert after.query(kpis, key)[0] == (before.query(kpis, key)[0][0], False), key
    # Not synced, not alerted on; every other account synced and the run's alerts step completed.
    runs = this_runs(after, before, "sync_runs", "sync_run_id, workspace_id, platform, account_id, status")
    synced = {(w, p, a) for _, w, p, a, _ in runs}
    assert synced.isdisjoint(removed_workspace | {REMOVED_ACCOUNT})
    active = {(w, p, a) for w, p, a in after.query("select workspace_id, platform, account_id from ops.workspace_accounts where active")}
    assert synced <= active and active - synced <= {("harbor_uk", "file_drop", "harbor_pinterest")}  # no new file: nothing to load
    assert {s for *_, s in runs} == {"loaded"}
    alerted = this_runs(after, before, "alert_log", "alert_key, workspace_id, platform, entity_id")
    assert not {a for a in alerted if a[1] == REMOVED_WORKSPACE or (a[2], a[3]) == REMOVED_ACCOUNT[1:]}
    assert after.query(
        "select count(*) from marts.mart_alerts where workspace_id = %s or (platform = %s and account_id = %s)",
        (REMOVED_WORKSPACE, *REMOVED_ACCOUNT[1:]),
    )[0][0] == 0


def test_an_account_put_back_catches_up_from_where_it_stopped(demo):
    returned, world = demo.returned, demo.world
    assert returned.run.succeeded, returned.run.output[-6000:]
    assert removed_keys(returned) == removed_keys(demo.offboarded) - {REMOVED_ACCOUNT}
    _, platform, account_id = REMOVED_ACCOUNT
    truth = {
        (t["campaign_id"], t["date"]): t
        for t in world.truth_rows(platform, account_id, NEXT_DAY + timedelta(days=1), RETURN_DAY, as_of=RETURN_DAY + timedelta(days=1))
    }
    facts = {
        (c, d): (spend, clicks, active)
        for c, d, spend, clicks, active in returned.query(
            "select campaign_id, date_day, spend, clicks, is_active from marts.fct_ad_performance_daily "
            "where platform = %s and account_id = %s and date_day > %s",
            (platform, account_id, NEXT_DAY),
        )
    }
    assert truth and set(facts) == set(truth)  # the days it was away, synced from where it stopped
    for key, t in truth.items():
        spend, clicks, active = facts[key]
        assert float(spend) == pytest.approx(t["spend"], abs=0.005) and clicks == t["clicks"] and active, key
    assert returned.query(
        "select bool_and(is_active) from marts.fct_ad_performance_daily where platform = %s and account_id = %s",
        (platform, account_id),
    )[0][0] is True  # its whole history is active again
