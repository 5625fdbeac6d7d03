"""Each seed alert rule fires just beyond its threshold and stays quiet just inside it,
on crafted campaigns (constant history, crafted last day); workspace overrides apply;
the alerts mart carries the numbers, baseline, explanation and link."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from crafted_alerting import (
    ACOS_SCOPE_CASES,
    BACK_AFTER_A_DIP,
    COLLAPSE,
    CONVERSIONS_DOWN_BY_CHANCE,
    LAST,
    LOW_VOLUME_DIP,
    NOISY_DIP,
    PACING_CASES,
    PLANNED_CASES,
    RULE_CASES,
    SLOW_BREAK,
    SLOW_BREAK_TWO_DAYS,
    TINY,
    WORKSPACE_CASES,
    fetch,
)

SEED = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "alert_rules.csv"


pytestmark = pytest.mark.xdist_group("crafted")


@pytest.fixture(scope="module")
def crafted(crafted_warehouse):
    dsn = crafted_warehouse
    evaluations = fetch(dsn, f"select * from intermediate.int_alert_rule_evaluations where date_day = '{LAST}'")
    alerts = fetch(dsn, f"select * from marts.mart_alerts where date_day = '{LAST}'")
    anomalies = fetch(dsn, f"select * from marts.mart_anomalies where date_day = '{LAST}'")
    return evaluations, alerts, anomalies


def fired(evaluations, workspace_id, campaign_id, rule_id) -> bool:
    (row,) = [
        e for e in evaluations if (e["workspace_id"], e["campaign_id"], e["rule_id"]) == (workspace_id, campaign_id, rule_id)
    ]
    return row["is_triggered"]


def test_every_seed_rule_has_a_crafted_case():
    from ads_elt.registry import RULE_IDS

    with open(SEED, newline="") as f:
        seed_rules = [r["rule_id"] for r in csv.DictReader(f)]
    assert seed_rules == list(RULE_IDS)
    assert set(RULE_CASES) | {"budget_pacing"} == set(seed_rules)


@pytest.mark.parametrize("rule_id", sorted(RULE_CASES))
def test_rule_fires_beyond_its_threshold_and_not_just_inside(crafted, rule_id):
    evaluations, alerts, _ = crafted
    beyond, inside = RULE_CASES[rule_id]
    assert fired(evaluations, beyond.workspace_id, beyond.campaign_id, rule_id)
    assert not fired(evaluations, inside.workspace_id, inside.campaign_id, rule_id)
    (alert,) = [a for a in alerts if (a["campaign_id"], a["signal"]) == (beyond.campaign_id, rule_id)]
    assert alert["source"] == "rule" and alert["rule_id"] == rule_id and alert["score"] >= 1
    assert alert["explanation"] and alert["value"] is not None
    assert alert["alert_key"] == f"craft_a|google_ads|{beyond.campaign_id}|{rule_id}|{LAST}"
    assert not [a for a in alerts if (a["campaign_id"], a["signal"]) == (inside.campaign_id, rule_id)]


def test_a_slide_over_three_days_alerts_and_a_collapse_is_left_to_the_roas_rule(crafted):
    """conversion_value_sliding: three days at 74% of what the clicks would have brought, each within what a day
    can do on its own, add up beyond chance; three days at 30% are a collapse, the ROAS rule's alert, not a slide."""
    evaluations, alerts, _ = crafted
    slide, _ = RULE_CASES["conversion_value_sliding"]
    for rule_id in ("roas_below_baseline",):  # no single day of the slide is under half its level
        assert not fired(evaluations, slide.workspace_id, slide.campaign_id, rule_id)
    (alert,) = [a for a in alerts if (a["campaign_id"], a["signal"]) == (slide.campaign_id, "conversion_value_sliding")]
    assert alert["value"] == pytest.approx(3 * 7400.0) and alert["severity"] == "warning"
    # the expected value: the 3 days' clicks at the 28-day value per click (the slide's first two days among them)
    assert alert["baseline"] == pytest.approx(6000 * (26 * 10000 + 2 * 7400) / (28 * 2000))
    assert "over the last 3 days is 75% of what their clicks would have brought at the 28-day rate" in alert["explanation"]
    assert not fired(evaluations, COLLAPSE.workspace_id, COLLAPSE.campaign_id, "conversion_value_sliding")
    assert fired(evaluations, COLLAPSE.workspace_id, COLLAPSE.campaign_id, "roas_below_baseline")


def test_conversions_stopped_adds_up_to_three_days_without_a_conversion(crafted):
    """A campaign with 4 conversions a day: three days without any are beyond chance (e^-11 under Poisson), two are
    not (e^-7.7, about one campaign-day in 2,200 by chance alone): the rule waits for the third."""
    evaluations, alerts, _ = crafted
    assert fired(evaluations, SLOW_BREAK.workspace_id, SLOW_BREAK.campaign_id, "conversions_stopped")
    assert not fired(evaluations, SLOW_BREAK_TWO_DAYS.workspace_id, SLOW_BREAK_TWO_DAYS.campaign_id, "conversions_stopped")
    (alert,) = [a for a in alerts if (a["campaign_id"], a["signal"]) == (SLOW_BREAK.campaign_id, "conversions_stopped")]
    # scored on the three days' expected conversions: 300 clicks at the 28-day rate (26 days of 4 per 100 clicks)
    assert alert["score"] == pytest.approx(300 * 26 * 4 / 2800 / 9)
    assert alert["explanation"].endswith("no conversions for 3 days, while their 300 clicks would have brought about 11.1 at its 28-day conversion rate")
    one_day = RULE_CASES["conversions_stopped"][0]
    (alert,) = [a for a in alerts if (a["campaign_id"], a["signal"]) == (one_day.campaign_id, "conversions_stopped")]
    assert alert["explanation"].endswith("no conversions, while its 200 clicks would have brought about 10.0 at its 28-day conversion rate")


def test_rule_numbers_and_explanations(crafted):
    evaluations, alerts, _ = crafted
    by = {(a["campaign_id"], a["signal"]): a for a in alerts}
    roas = by[("101", "roas_below_baseline")]
    assert roas["value"] == pytest.approx(2.45) and roas["baseline"] == pytest.approx(5.0)
    assert roas["threshold_value"] == pytest.approx(2.5) and roas["severity"] == "critical"
    assert roas["explanation"] == (
        "ROAS below its 28-day level: ROAS 2.45x is under 50% of its 28-day level 5.00x (spend 2,000.00 USD)"
    )
    spike = by[("131", "spend_spike_day_over_day")]
    assert spike["baseline"] == pytest.approx(200.0) and "is up 203% on the previous day (200.00 USD)" in spike["explanation"]
    assert by[("141", "acos_above")]["value"] == pytest.approx(200 / 660)
    gap = by[("181", "stopped_reporting")]
    assert gap["value"] == 0 and gap["baseline"] == pytest.approx(200.0) and gap["severity"] == "warning"
    assert gap["explanation"] == (
        "Active campaign stopped reporting: no numbers reported for the day, although it spent on 7 of the 7 days before "
        "(200.00 USD a day on average)"
    )
    conversions = by[("111", "spend_up_conversions_down")]["explanation"]
    assert "Spend 310.00 USD is 155% of its 28-day daily average 200.00 USD while conversions 2 are under 50% of their average 10" in conversions


def test_budget_pacing_per_campaign_and_per_workspace(crafted):
    evaluations, alerts, _ = crafted
    beyond, inside = PACING_CASES
    assert fired(evaluations, "craft_a", beyond.campaign_id, "budget_pacing")
    assert not fired(evaluations, "craft_a", inside.campaign_id, "budget_pacing")
    (pacing,) = [a for a in alerts if (a["campaign_id"], a["signal"]) == (beyond.campaign_id, "budget_pacing")]
    assert pacing["value"] == pytest.approx(6200.0) and pacing["baseline"] == pytest.approx(3850.0)
    assert "projects to 6,200.00 USD" in pacing["explanation"]
    # Campaigns without a budget are never paced.
    assert not fired(evaluations, "craft_a", "101", "budget_pacing")
    # Workspace totals: craft_b projects 6200 on 3900 (inside), craft_c 12400 on 7700 (beyond).
    ws = {e["workspace_id"]: e for e in evaluations if e["rule_id"] == "budget_pacing" and e["entity_type"] == "workspace"}
    assert not ws["craft_b"]["is_triggered"] and ws["craft_c"]["is_triggered"]
    assert ws["craft_c"]["value"] == pytest.approx(12400.0)
    assert [a["alert_key"] for a in alerts if a["workspace_id"] == "craft_c" and a["signal"] == "budget_pacing"] == [
        f"craft_c|all|all|budget_pacing|{LAST}"
    ]
    assert not ws["craft_a"]["is_triggered"] and ws["craft_a"]["baseline"] is None  # no workspace budget: never paced


def test_budget_pacing_projects_no_month_from_its_first_day(crafted_warehouse):
    """Campaign 161 projects 6,200 on a 3,850 budget every day of March; a first day's spend alone projects nothing."""
    beyond, _ = PACING_CASES
    rows = fetch(
        crafted_warehouse,
        "select date_day, is_triggered from intermediate.int_alert_rule_evaluations "
        f"where campaign_id = '{beyond.campaign_id}' and rule_id = 'budget_pacing' and date_day <= '2025-03-03' order by date_day",
    )
    assert [(str(r["date_day"]), r["is_triggered"]) for r in rows] == [("2025-03-01", False), ("2025-03-02", True), ("2025-03-03", True)]


def test_a_workspace_can_switch_a_rule_off(crafted):
    evaluations, alerts, _ = crafted
    _, _, acos_bad = WORKSPACE_CASES
    assert not [e for e in evaluations if e["workspace_id"] == "craft_c" and e["rule_id"] == "acos_above"]
    # no conversion value at all would fire it anywhere else; the other rules still run in craft_c
    assert fired(evaluations, "craft_c", acos_bad.campaign_id, "conversions_stopped")


def test_acos_alerts_only_where_a_target_applies(crafted):
    evaluations, alerts, _ = crafted
    # craft_a set its own ACOS target: it applies to its Google Ads campaigns (test above);
    # without one, or with a target for Amazon Ads only, ACOS 0.5 on Google Ads is not evaluated at all.
    for case in ACOS_SCOPE_CASES:
        rules = {e["rule_id"] for e in evaluations if (e["workspace_id"], e["campaign_id"]) == (case.workspace_id, case.campaign_id)}
        assert "acos_above" not in rules and "roas_below_baseline" in rules, (case, rules)
        assert "roas_below_floor" not in rules  # off unless the workspace sets its own floor
        assert not [a for a in alerts if a["workspace_id"] == case.workspace_id and a["signal"] == "acos_above"]



def test_a_planned_budget_step_explains_its_alerts_and_an_undeclared_one_does_not(crafted):
    _, alerts, _ = crafted
    declared, undeclared = PLANNED_CASES
    signals = {c.campaign_id: {a["signal"]: a["planned_change_id"] for a in alerts if a["campaign_id"] == c.campaign_id} for c in PLANNED_CASES}
    # the same doubling of spend alerts on both campaigns (the day-over-day spike; the constant history has no spread)
    assert "spend_spike_day_over_day" in set(signals[undeclared.campaign_id]) == set(signals[declared.campaign_id])
    assert set(signals[undeclared.campaign_id].values()) == {None}  # sent
    assert set(signals[declared.campaign_id].values()) == {"budget_step-701"}  # kept in the mart, never sent
    (row,) = [a for a in alerts if (a["campaign_id"], a["signal"]) == (declared.campaign_id, "spend_spike_day_over_day")]
    assert row["planned_change"] == "budget_step: Black Friday budget"


def test_a_roas_dip_within_chance_is_not_an_alert(crafted):
    """ROAS at 45% of its level, but on 4 conversions a day: the value is within two chance spreads of what 40 clicks bring."""
    evaluations, alerts, _ = crafted
    (row,) = [e for e in evaluations if (e["campaign_id"], e["rule_id"]) == (LOW_VOLUME_DIP.campaign_id, "roas_below_baseline")]
    assert row["value"] == pytest.approx(2.25) and row["value"] < row["threshold_value"] and not row["is_triggered"]
    assert not [a for a in alerts if a["campaign_id"] == LOW_VOLUME_DIP.campaign_id and a["source"] == "rule"]


def test_a_roas_dip_a_noisy_campaign_often_makes_is_not_an_alert(crafted):
    """The day that alerts on a steady campaign (101) does not on one whose value swings by a fifth every day."""
    evaluations, alerts, _ = crafted
    steady, _ = RULE_CASES["roas_below_baseline"]
    rows = {e["campaign_id"]: e for e in evaluations if e["rule_id"] == "roas_below_baseline" and e["campaign_id"] in (steady.campaign_id, NOISY_DIP.campaign_id)}
    noisy = rows[NOISY_DIP.campaign_id]
    assert rows[steady.campaign_id]["is_triggered"]
    assert noisy["value"] < noisy["threshold_value"] and not noisy["is_triggered"]
    assert not [a for a in alerts if a["campaign_id"] == NOISY_DIP.campaign_id and a["signal"] == "roas_below_baseline"]


def test_spend_back_at_its_usual_level_after_a_dip_is_no_spike(crafted):
    """200 after a day of 60 is 3.3 x the previous day, but not over 1.5 x its 28-day daily average: no spike."""
    evaluations, alerts, _ = crafted
    (row,) = [e for e in evaluations if (e["campaign_id"], e["rule_id"]) == (BACK_AFTER_A_DIP.campaign_id, "spend_spike_day_over_day")]
    assert row["value"] > row["threshold_value"] and not row["is_triggered"]
    assert not [a for a in alerts if a["campaign_id"] == BACK_AFTER_A_DIP.campaign_id and a["source"] == "rule"]


def test_conversions_under_half_but_within_chance_are_no_alert(crafted):
    """Spend x1.55 and 4 conversions against 10 a day: under half, but 200 clicks bring 4 by chance often enough."""
    evaluations, alerts, _ = crafted
    (row,) = [e for e in evaluations if (e["campaign_id"], e["rule_id"]) == (CONVERSIONS_DOWN_BY_CHANCE.campaign_id, "spend_up_conversions_down")]
    assert row["value"] > row["threshold_value"] and not row["is_triggered"]


def test_no_ctr_alert_on_forty_impressions(crafted):
    evaluations, alerts, anomalies = crafted
    assert not fired(evaluations, "craft_a", TINY.campaign_id, "ctr_below_baseline")
    tiny = [a for a in anomalies if a["campaign_id"] == TINY.campaign_id]
    assert tiny and not any(a["is_scored"] for a in tiny)
    assert not [a for a in alerts if a["campaign_id"] == TINY.campaign_id]


def test_platform_totals_are_scored_beside_campaigns_and_workspaces(crafted):
    _, _, anomalies = crafted
    spend = {(a["workspace_id"], a["entity_type"], a["platform"], a["campaign_id"]): a for a in anomalies if a["metric"] == "spend"}
    campaigns = sum(a["value"] for (ws, kind, _, _), a in spend.items() if ws == "craft_a" and kind == "campaign")
    platform = spend[("craft_a", "platform", "google_ads", "all")]
    workspace = spend[("craft_a", "workspace", "all", "all")]
    assert platform["value"] == pytest.approx(campaigns) == pytest.approx(workspace["value"])  # one platform: equal totals
    assert platform["entity_id"] == "google_ads" and platform["account_id"] == "all"
    assert platform["baseline_median"] == pytest.approx(workspace["baseline_median"]) and platform["baseline_median"] > 0
