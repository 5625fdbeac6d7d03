"""End to end for every platform: the first sync of the session's demo world (tests/e2e_worlds.py).

TikTok, Snapchat, LinkedIn, Amazon Ads (asynchronous reports through a deferred
task) and a CSV file drop land in fct_ad_performance_daily with the sandbox
world's numbers exactly: units converted (Snapchat micros, LinkedIn
long-precision strings), the account's currency kept, days in the account's time
zone. (test_e2e.py covers Meta and Google Ads, reruns and failures.)
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from e2e_worlds import AMAZON_POLLS_TO_COMPLETE, HISTORY_DAYS, REPORT_DATE

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("demo")]

NEW_PLATFORMS = ("tiktok", "snapchat", "linkedin", "amazon_ads", "file_drop")


def _exact(value) -> Decimal:
    return Decimal(str(value))


@pytest.mark.parametrize("platform", NEW_PLATFORMS)
def test_each_platform_lands_the_worlds_numbers_exactly(demo, platform):
    stack, world = demo.first, demo.world
    since = REPORT_DATE - timedelta(days=HISTORY_DAYS - 1)
    for account in world.accounts_for(platform):
        truth = {(t["campaign_id"], t["date"]): t for t in world.truth_rows(platform, account.account_id, since, REPORT_DATE)}
        facts = {
            (r[0], r[1]): r[2:]
            for r in stack.query(
                "select campaign_id, date_day, spend, impressions, clicks, conversions, conversion_value, currency, "
                "reporting_currency, workspace_id from marts.fct_ad_performance_daily where platform = %s and account_id = %s",
                (platform, account.account_id),
            )
        }
        # Same campaign-days: every day is the account's local day (a UTC reading would shift Europe's by one).
        assert set(facts) == set(truth), (platform, sorted(set(facts) ^ set(truth))[:5])
        assert len(facts) == HISTORY_DAYS * len(account.campaigns)
        for key, t in truth.items():
            spend, impressions, clicks, conversions, value, currency, reporting, workspace = facts[key]
            assert abs(spend - _exact(t["spend"])) < Decimal("1e-9"), (platform, key, spend, t["spend"])
            assert impressions == t["impressions"], (platform, key)
            assert clicks == t["clicks"], (platform, key)
            assert conversions == _exact(t["conversions"]), (platform, key)
            assert abs(value - _exact(t["conversion_value"])) < Decimal("1e-9"), (platform, key, value, t["conversion_value"])
            assert currency == account.currency
            assert workspace == account.workspace_id
    workspaces = {w: c for w, c in stack.query("select distinct workspace_id, reporting_currency from marts.fct_ad_performance_daily")}
    # The demo registry's reporting currencies; every workspace of the world reaches the fact.
    assert workspaces == {"northwind_us": "USD", "lumen_eu": "EUR", "harbor_uk": "GBP", "souq_sa": "SAR"}
    assert set(workspaces) == {a.workspace_id for a in world.accounts}


def test_every_platform_names_its_campaigns_and_linkedin_its_campaign_groups(demo):
    stack, world = demo.first, demo.world
    from sandbox.platforms.linkedin import campaign_group_of

    rows = stack.query(
        "select distinct platform, account_id, campaign_id, campaign_name, campaign_group_id, campaign_group_name "
        "from marts.fct_ad_performance_daily where platform <> 'file_drop'"
    )
    assert {r[0] for r in rows} >= {"snapchat", "linkedin", "tiktok", "amazon_ads"}
    for platform, account_id, campaign_id, name, group_id, group_name in rows:
        expected = world.account(platform, account_id).campaign(campaign_id).name
        assert name == expected, (platform, campaign_id, name)  # Snapchat and LinkedIn: from their campaign lists
        if platform == "linkedin":
            gid, gname = campaign_group_of(account_id, expected)
            assert (group_id, group_name) == (str(gid), gname)
        else:
            assert group_id is None and group_name is None


@pytest.mark.parametrize("platform", ("tiktok", "snapchat", "linkedin", "amazon_ads"))
def test_ad_groups_land_with_their_names_and_numbers(demo, platform):
    stack, world = demo.first, demo.world
    since = REPORT_DATE - timedelta(days=HISTORY_DAYS - 1)
    for account in world.accounts_for(platform):
        truth = {(t["ad_group_id"], t["date"]): t for t in world.truth_rows(platform, account.account_id, since, REPORT_DATE, level="ad_group")}
        facts = {
            (r[0], r[1]): r[2:]
            for r in stack.query(
                "select ad_group_id, date_day, campaign_id, campaign_name, ad_group_name, spend, impressions, clicks "
                "from marts.fct_ad_group_performance_daily where platform = %s and account_id = %s",
                (platform, account.account_id),
            )
        }
        assert set(facts) == set(truth), (platform, sorted(set(facts) ^ set(truth))[:5])
        for key, t in truth.items():
            campaign_id, campaign_name, ad_group_name, spend, impressions, clicks = facts[key]
            assert (campaign_id, campaign_name, ad_group_name) == (t["campaign_id"], t["campaign_name"], t["ad_group_name"]), (platform, key)
            assert abs(spend - _exact(t["spend"])) < Decimal("0.005") and (impressions, clicks) == (t["impressions"], t["clicks"]), (platform, key)


def test_the_demo_spans_three_currencies_and_time_zones(demo):
    stack = demo.first
    rows = stack.query("select distinct currency, timezone from ops.workspace_accounts")
    assert len({c for c, _ in rows}) >= 3
    assert len({tz for _, tz in rows}) >= 3


def test_each_account_records_the_attribution_its_conversions_are_reported_under(demo):
    from adapters import PLATFORMS, STORE_PLATFORMS

    stack = demo.first
    recorded = stack.query("select platform, account_id, attribution_window from ops.workspace_accounts")
    assert {p for p, _, _ in recorded} >= {"meta", "snapchat", "google_ads", "shopify"}
    for platform, account, window in recorded:
        if platform in STORE_PLATFORMS:
            assert window.startswith("last click within"), (platform, account, window)
        else:
            assert window == PLATFORMS[platform].attribution, (platform, account, window)
    windows = {p: w for p, _, w in recorded}
    assert windows["meta"].startswith("7d_click,1d_view") and windows["snapchat"].startswith("swipe_up 7_DAY, view 1_DAY")


def test_amazon_reports_are_awaited_by_a_trigger_not_a_sleeping_task(demo):
    stack, run, calls = demo.first, demo.first.run, demo.amazon_calls_after_first
    reports = stack.query(
        "select window_start, window_end from ops.sync_runs where platform = 'amazon_ads' and status = 'loaded'"
    )
    assert len(reports) == 1
    from ads_elt.ingestion.amazon_ads import REPORT_GROUPS

    # at most 31 days per report, one report per window and group (campaigns, ad groups)
    windows = -(-((reports[0][1] - reports[0][0]).days + 1) // 31) * len(REPORT_GROUPS)
    assert calls["create_report"] == windows
    # The extract deferred; the trigger (not the task) polled until every report was COMPLETED.
    assert "running trigger in line" in run.output
    assert "not ready after" in run.output
    assert calls["get_report"] >= windows * AMAZON_POLLS_TO_COMPLETE
    assert calls["download"] == windows
    assert demo.amazon_downloads_refused_after_first == 0  # pre-signed URLs fetched without an Authorization header


def test_platform_extras_are_keyed_like_the_fact(demo):
    stack, world = demo.first, demo.world
    fact_ids = {r[0] for r in stack.query("select ad_performance_id from marts.fct_ad_performance_daily")}
    extras = stack.query(
        "select ad_performance_id, platform, account_id, campaign_id, date_day, reach, video_views, video_views_p25, "
        "video_views_p100, swipes, acos_spend, acos_sales, acos from marts.fct_ad_performance_platform_extras"
    )
    assert extras and {e[0] for e in extras} <= fact_ids
    assert {e[1] for e in extras} == {"meta", "tiktok", "snapchat", "amazon_ads"}
    checked = set()
    for _, platform, account_id, campaign_id, day, reach, views, p25, p100, swipes, acos_spend, acos_sales, acos in extras:
        truth = world.truth(platform, account_id, campaign_id, day)
        name = world.account(platform, account_id).campaign(campaign_id).name
        if platform == "meta":
            assert reach == truth["reach"]
        elif platform == "tiktok" and "Search" in name:
            assert views is None and p100 is None  # TikTok sent "-": not a video campaign
        elif platform == "tiktok":
            assert (views, p25, p100) == (truth["video_play_actions"], truth["video_views_p25"], truth["video_views_p100"])
        elif platform == "snapchat":
            assert (views, p25, p100, swipes) == (truth["video_views"], truth["quartile_1"], truth["view_completion"], truth["clicks"])
        else:
            assert acos_spend == _exact(truth["spend"]) and acos_sales == _exact(truth["conversion_value"])
            assert acos == pytest.approx(truth["spend"] / truth["conversion_value"])
        checked.add((platform, "Search" in name))
    assert checked == {("meta", False), ("tiktok", True), ("tiktok", False), ("snapchat", False), ("amazon_ads", False)}


def test_the_dropped_file_is_loaded_once_and_leaves_the_inbox(demo):
    name = f"export-{REPORT_DATE - timedelta(days=HISTORY_DAYS - 1)}-{REPORT_DATE}.csv"
    files = demo.first.query("select file_name, status, rows_loaded, rows_quarantined from ops.file_drop_files")
    assert files == [(name, "loaded", HISTORY_DAYS * 2, 0)]
    assert demo.inbox_after_first == {"inbox": [], "processed": [name]}
    # The same file is not loaded again by the next runs (the same date, then three days later).
    for step in (demo.rerun, demo.next_day):
        assert (name, "loaded") in {(f, s) for f, s, *_ in step.query("select file_name, status from ops.file_drop_files")}
        assert step.query("select count(*) from ops.file_drop_files where file_name = %s", (name,))[0][0] == 1


def test_every_dbt_test_runs_exactly_once_in_a_run(demo):
    """`dbt.views` runs the tests among views and seeds, the mart tasks the others: none twice, none left out."""
    import json
    import re
    from collections import Counter

    from e2e_harness import REPO

    manifest = json.loads((REPO / "dbt_project" / "target" / "manifest.json").read_text())
    nodes = manifest["nodes"]
    streamed = {uid for uid, n in nodes.items() if "stream" in n.get("tags", [])}  # ads_stream's marts, tested there
    expected = {
        n["name"] for n in nodes.values() if n["resource_type"] == "test" and not set(n["depends_on"]["nodes"]) & streamed
    }
    expected |= {f"{u['model']}::{u['name']}" for u in manifest["unit_tests"].values()}
    started = Counter(re.findall(r" START (?:test|unit_test) (\S+)", demo.first.run.output))
    assert set(started) == expected, (sorted(expected - set(started))[:10], sorted(set(started) - expected)[:10])
    assert {name: n for name, n in started.items() if n != 1} == {}
    assert len(expected) >= 400
