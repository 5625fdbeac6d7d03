"""Budget recommendations on crafted campaigns: every guardrail holds and each row says why."""

from __future__ import annotations

import pytest
from crafted_alerting import LAST, fetch

pytestmark = pytest.mark.xdist_group("crafted")


@pytest.fixture(scope="module")
def recs(crafted_warehouse):
    dsn = crafted_warehouse
    rows = fetch(dsn, f"select * from marts.mart_budget_recommendations where workspace_id = 'budget_ws' and date_day = '{LAST}'")
    history = fetch(dsn, "select * from marts.mart_budget_recommendations")
    return {r["campaign_id"]: r for r in rows}, history


def test_budget_moves_from_low_to_high_return_and_is_neutral(recs):
    r, _ = recs
    assert {cid: x["recommendation"] for cid, x in r.items()} == {
        "401": "increase",
        "402": "decrease",
        "403": "decrease",
        "404": "hold",
        "405": "hold",
        "406": "hold",
        "407": "increase",
    }
    # Donors release 20 (max share of 100) + 5 (down to the 25 floor) = 25; recipients could take 40.
    assert r["402"]["change_amount"] == pytest.approx(-20.0)
    assert r["403"]["change_amount"] == pytest.approx(-5.0)
    assert r["401"]["change_amount"] == pytest.approx(12.5) and r["407"]["change_amount"] == pytest.approx(12.5)
    assert sum(x["change_amount_reporting"] for x in r.values()) == pytest.approx(0.0, abs=1e-9)
    assert r["402"]["reason"] == (
        "Decrease by 20.00 USD/day (20% of 100.00 USD): ROAS 2.00x (7d) and 2.00x (28d) "
        "vs the workspace's 5.72x and 5.72x"
    )


def test_guardrails_hold_on_every_row(recs):
    _, history = recs
    assert history
    for x in history:
        assert abs(x["change_share"] or 0) <= x["max_shift_share"] + 1e-9, x
        if x["recommendation"] == "decrease":
            assert x["recommended_daily_budget_reporting"] >= x["min_daily_budget"] - 1e-9, x
        if not x["is_eligible"]:
            assert x["recommendation"] == "hold" and x["change_amount"] == 0, x
        if x["recommendation"] != "hold":
            assert x["spend_28d_reporting"] >= x["min_spend_28d"] and x["conversions_28d"] >= x["min_conversions_28d"]
        assert x["reason"]
    by_day = {}
    for x in history:
        by_day.setdefault((x["workspace_id"], x["date_day"]), 0.0)
        by_day[(x["workspace_id"], x["date_day"])] += x["change_amount_reporting"]
    assert all(abs(v) < 1e-6 for v in by_day.values())


def test_ineligible_and_floor_reasons_are_in_numbers(recs):
    r, _ = recs
    assert r["404"]["role"] == "ineligible" and "28-day spend 280.00 USD, minimum 500.00 USD" in r["404"]["reason"]
    assert r["405"]["role"] == "ineligible" and "28-day conversions 5.6, minimum 10" in r["405"]["reason"]
    assert r["403"]["recommended_daily_budget"] == pytest.approx(25.0)  # the workspace's floor (registry), not the default 10
    assert r["403"]["min_daily_budget"] == 25
    assert r["406"]["role"] == "neutral" and "not consistently more than 20% away" in r["406"]["reason"]
