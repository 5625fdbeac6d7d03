"""The sandbox world's ad groups and ads: platform-shaped ids, and finer rows that sum exactly to the campaign-day."""

import re
from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal

import pytest

from sandbox.world import World

END = date(2026, 11, 20)
SINCE = END - timedelta(days=9)
ADDITIVE_SKIP = {"reach"}


@pytest.fixture(scope="module")
def world() -> World:
    return World.demo(END)


def _sum_by(rows, keys):
    totals: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        key = tuple(row[k] for k in keys)
        for name, value in row.items():
            if isinstance(value, int | float) and not isinstance(value, bool) and name not in ADDITIVE_SKIP:
                totals[key][name] += Decimal(str(value))
    return totals


@pytest.mark.parametrize("level", ["ad_group", "ad"])
def test_finer_rows_sum_exactly_to_the_campaign_day(world, level):
    for account in world.accounts:
        campaign_rows = world.truth_rows(account.platform, account.account_id, SINCE, END)
        fine = world.truth_rows(account.platform, account.account_id, SINCE, END, level=level)
        sums = _sum_by(fine, ("campaign_id", "date"))
        assert len(sums) == len(campaign_rows)
        for row in campaign_rows:
            got = sums[(row["campaign_id"], row["date"])]
            for name, value in row.items():
                if isinstance(value, int | float) and name not in ADDITIVE_SKIP:
                    assert got[name] == Decimal(str(value)), (account.platform, row["campaign_id"], row["date"], name)


@pytest.mark.parametrize("level", ["ad_group", "ad"])
def test_conversion_value_goes_only_where_the_conversions_are(level):
    # Meta sends a purchase's value only beside a purchase count: a finer row with value and no
    # conversions would lose that value between the grains. Small campaigns have such rows.
    from sandbox.world import Account, Campaign

    campaigns = tuple(
        Campaign(f"12000000000{n}", f"Small {n}", daily_spend=110.0 + 40 * n, cpm=12.0, ctr=0.01, cvr=0.03, aov=60.0, frequency=1.4)
        for n in range(3)
    )
    accounts = [
        Account(platform=p, account_id=f"9{i}0000001", workspace_id="small", currency="USD", timezone="UTC", campaigns=campaigns, name=p)
        for i, p in enumerate(("meta", "google_ads", "tiktok"))
    ]
    world = World(accounts=accounts, seed=3, start_date=END - timedelta(days=60), end_date=END)
    without = 0
    for account in world.accounts:
        for row in world.truth_rows(account.platform, account.account_id, SINCE, END, level=level):
            if not row["conversions"]:
                without += 1
                assert row["conversion_value"] == 0, row
    assert without > 0  # this small world has such rows: the check is not vacuous


def test_ad_rows_sum_to_their_ad_group(world):
    account = world.accounts_for("meta")[0]
    groups = world.truth_rows("meta", account.account_id, SINCE, END, level="ad_group")
    ads = _sum_by(world.truth_rows("meta", account.account_id, SINCE, END, level="ad"), ("ad_group_id", "date"))
    for row in groups:
        assert ads[(row["ad_group_id"], row["date"])]["spend"] == Decimal(str(row["spend"]))
        assert ads[(row["ad_group_id"], row["date"])]["clicks"] == row["clicks"]


def test_units_and_shapes_match_the_platform(world):
    for account in world.accounts:
        fine = world.truth_rows(account.platform, account.account_id, SINCE, END, level="ad")
        for row in fine:
            assert round(row["spend"], 2) == row["spend"] and row["spend"] >= 0
            assert isinstance(row["impressions"], int) and isinstance(row["clicks"], int)
            if account.platform != "google_ads":
                assert isinstance(row["conversions"], int)
            if "reach" in row:
                assert 0 <= row["reach"] <= row["impressions"]
        ids = {r["ad_group_id"] for r in fine}
        if account.platform == "snapchat":
            assert all(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", i) for i in ids)
        else:
            assert all(i.isdigit() for i in ids)
        # 2-3 ad groups per campaign, 2 ads each, distinct ids across the account.
        per_campaign = defaultdict(set)
        for r in fine:
            per_campaign[r["campaign_id"]].add(r["ad_group_id"])
        assert all(2 <= len(v) <= 3 for v in per_campaign.values())
        assert len(ids) == sum(len(v) for v in per_campaign.values())


def test_hierarchy_is_stable_and_shares_move_from_day_to_day(world):
    account = world.accounts_for("google_ads")[0]
    campaign = account.campaigns[0].campaign_id
    again = World.demo(END)
    assert world.ad_groups("google_ads", account.account_id, campaign) == again.ad_groups("google_ads", account.account_id, campaign)
    first = world.fine_truth("google_ads", account.account_id, campaign, END - timedelta(days=3))
    second = world.fine_truth("google_ads", account.account_id, campaign, END - timedelta(days=2))
    share = [r["spend"] / sum(x["spend"] for x in first) for r in first]
    share2 = [r["spend"] / sum(x["spend"] for x in second) for r in second]
    assert share != share2


def test_no_clicks_anomaly_splits_into_zeros():
    from sandbox.world import Anomaly

    base = World.demo(END)
    account = base.accounts_for("meta")[0]
    campaign = account.campaigns[1].campaign_id
    world = World(base.accounts, anomalies=[Anomaly("no_clicks", "meta", account.account_id, campaign, END)], start_date=base.start_date, end_date=END)
    rows = world.fine_truth("meta", account.account_id, campaign, END, level="ad")
    assert rows and all(r["clicks"] == 0 and r["conversions"] == 0 and r["conversion_value"] == 0 for r in rows)
    assert sum(r["impressions"] for r in rows) > 0


def test_unknown_level_is_refused(world):
    account = world.accounts[0]
    with pytest.raises(ValueError, match="level"):
        world.truth_rows(account.platform, account.account_id, SINCE, END, level="creative")
