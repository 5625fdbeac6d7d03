"""End to end for every platform: one `airflow dags test` run of ads_daily on the demo world.

TikTok, Snapchat, LinkedIn, Amazon Ads (asynchronous reports through a deferred
task) and a CSV file drop land in fct_ad_performance_daily with the sandbox
world's numbers exactly: units converted (Snapchat micros, LinkedIn
long-precision strings), the account's currency kept, days in the account's time
zone. (test_e2e.py covers Meta and Google Ads, reruns and failures.)
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from e2e_harness import E2EStack

pytestmark = pytest.mark.e2e

REPORT_DATE = date(2026, 11, 20)
HISTORY_DAYS = 90
NEW_PLATFORMS = ("tiktok", "snapchat", "linkedin", "amazon_ads", "file_drop")
AMAZON_POLLS_TO_COMPLETE = 3


@pytest.fixture(scope="module")
def world():
    from sandbox.world import World

    return World.demo(REPORT_DATE)


@pytest.fixture(scope="module")
def stack(pg_server, world, tmp_path_factory):
    s = E2EStack.start(pg_server, world, tmp_path_factory.mktemp("e2e_platforms"), today=REPORT_DATE + timedelta(days=1))
    s.drop_demo_files(world, REPORT_DATE - timedelta(days=HISTORY_DAYS - 1), REPORT_DATE)
    s.sandbox.platform_api("amazon_ads").polls_to_complete = AMAZON_POLLS_TO_COMPLETE
    yield s
    s.stop()


@pytest.fixture(scope="module")
def run(stack):
    result = stack.run_dag(REPORT_DATE)
    assert result.succeeded, result.output[-8000:]
    return result


def _exact(value) -> Decimal:
    return Decimal(str(value))


@pytest.mark.parametrize("platform", NEW_PLATFORMS)
def test_each_platform_lands_the_worlds_numbers_exactly(stack, world, run, platform):
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


def test_every_platform_names_its_campaigns_and_linkedin_its_campaign_groups(stack, world, run):
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
def test_ad_groups_land_with_their_names_and_numbers(stack, world, run, platform):
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


def test_the_demo_spans_three_currencies_and_time_zones(stack, run):
    rows = stack.query("select distinct currency, timezone from ops.workspace_accounts")
    assert len({c for c, _ in rows}) >= 3
    assert len({tz for _, tz in rows}) >= 3


def test_amazon_reports_are_awaited_by_a_trigger_not_a_sleeping_task(stack, run):
    api = stack.sandbox.platform_api("amazon_ads")
    reports = stack.query(
        "select window_start, window_end from ops.sync_runs where platform = 'amazon_ads' and status = 'loaded'"
    )
    assert len(reports) == 1
    from ads_elt.amazon_ads import REPORT_GROUPS

    # at most 31 days per report, one report per window and group (campaigns, ad groups)
    windows = -(-((reports[0][1] - reports[0][0]).days + 1) // 31) * len(REPORT_GROUPS)
    assert api.calls["create_report"] == windows
    # The extract deferred; the trigger (not the task) polled until every report was COMPLETED.
    assert "running trigger in line" in run.output
    assert "not ready after" in run.output
    assert api.calls["get_report"] >= windows * AMAZON_POLLS_TO_COMPLETE
    assert api.calls["download"] == windows
    assert api.downloads_with_auth_refused == 0  # pre-signed URLs fetched without an Authorization header


def test_platform_extras_are_keyed_like_the_fact(stack, world, run):
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


def test_the_dropped_file_is_loaded_once_and_leaves_the_inbox(stack, run):
    files = stack.query("select file_name, status, rows_loaded, rows_quarantined from ops.file_drop_files")
    assert files == [(f"export-{REPORT_DATE - timedelta(days=HISTORY_DAYS - 1)}-{REPORT_DATE}.csv", "loaded", HISTORY_DAYS * 2, 0)]
    inbox = stack.inbox / "harbor_uk" / "harbor_pinterest"
    assert not list(inbox.glob("*.csv"))
    assert len(list((inbox / "processed").glob("*.csv"))) == 1
