"""A crafted warehouse for the alert rules and budget recommendations.

Every campaign has a constant history (so every baseline is exact) and a
crafted last day; each rule gets one campaign just beyond its threshold and
one just inside it. Google Ads payloads (the API's shape), one account per
workspace, USD. `build(pg_server, tmp)` loads it and runs dbt on the
alerting marts and what they read.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import psycopg2
import psycopg2.extras
from test_dbt_project import dbt_env, fetch, run_dbt

from ads_elt.warehouse import ensure_schema

START = date(2025, 3, 1)
LAST = date(2025, 3, 30)  # day 30 of a 31-day month
BASE = {"spend": 200.0, "impressions": 10000, "clicks": 200, "conversions": 10.0, "value": 1000.0}  # CTR 2%, ROAS 5


@dataclass
class Crafted:
    workspace_id: str
    campaign_id: str
    last_day: dict = field(default_factory=dict)  # overrides of BASE on LAST
    base: dict = field(default_factory=dict)  # overrides of BASE on every day
    start: date = START
    silent: tuple[date, ...] = ()  # days the platform reports no row for it
    day_before: dict = field(default_factory=dict)  # overrides of BASE on the day before LAST
    odd_days: dict = field(default_factory=dict)  # overrides of BASE on every other day before LAST (odd days from START)
    last_3_days: dict = field(default_factory=dict)  # overrides of BASE on LAST and the two days before it


ACCOUNTS = {
    "craft_a": "5000000001",
    "craft_b": "5000000002",
    "craft_c": "5000000003",
    "budget_ws": "5000000004",
    "no_target": "5000000005",
    "amazon_target": "5000000006",
    "planned_ws": "5000000007",
}

BIG = {"spend": 2000.0, "impressions": 100000, "clicks": 2000, "conversions": 100.0, "value": 10000.0}
# rule_id: (campaign beyond the threshold, campaign just inside it)
RULE_CASES = {
    # at a volume where the drop is beyond chance (2,000 clicks, 100 conversions a day); see LOW_VOLUME_DIP
    "roas_below_baseline": (Crafted("craft_a", "101", {"value": 4900.0}, BIG), Crafted("craft_a", "102", {"value": 5100.0}, BIG)),
    # 2 conversions where 200 clicks would have brought 10: beyond chance (10 - 2.25 x sqrt(10) = 2.9)
    "spend_up_conversions_down": (
        Crafted("craft_a", "111", {"spend": 310.0, "conversions": 2.0, "value": 800.0}),
        Crafted("craft_a", "112", {"spend": 290.0, "conversions": 2.0, "value": 800.0}),
    ),
    "ctr_below_baseline": (Crafted("craft_a", "121", {"clicks": 99}), Crafted("craft_a", "122", {"clicks": 101})),
    "spend_spike_day_over_day": (
        Crafted("craft_a", "131", {"spend": 605.0, "value": 3025.0}),
        Crafted("craft_a", "132", {"spend": 595.0, "value": 2975.0}),
    ),
    "acos_above": (Crafted("craft_a", "141", {"value": 660.0}), Crafted("craft_a", "142", {"value": 670.0})),
    "roas_below_floor": (Crafted("craft_a", "151", {"value": 398.0}), Crafted("craft_a", "152", {"value": 402.0})),
    # no conversions on LAST where the clicks would have brought 10 (beyond: 9 needed) and 5 (inside)
    "conversions_stopped": (
        Crafted("craft_a", "191", {"conversions": 0.0, "value": 0.0}),
        Crafted("craft_a", "192", {"conversions": 0.0, "value": 0.0}, {"clicks": 100, "conversions": 5.0, "value": 500.0}),
    ),
    # 74% of the usual value (and conversions) on each of the last 3 days, on 100 conversions a day: about 4 chance
    # spreads under what the clicks would have brought over the 3 days (beyond: 3.5); 78%: about 3.4 (inside)
    "conversion_value_sliding": (
        Crafted("craft_a", "195", base=BIG, last_3_days={"conversions": 74.0, "value": 7400.0}),
        Crafted("craft_a", "196", base=BIG, last_3_days={"conversions": 78.0, "value": 7800.0}),
    ),
    # no row on LAST: after spend on all 7 days before (beyond), after spend on 4 of them (inside: 5 needed)
    "stopped_reporting": (
        Crafted("craft_a", "181", silent=(LAST,)),
        Crafted("craft_a", "182", silent=(LAST, *(LAST - timedelta(days=n) for n in (2, 4, 6)))),
    ),
}
# Campaign budget pacing: 200/day -> month-to-date 6000 after 30 days -> projected 6200 for March.
PACING_CASES = (Crafted("craft_a", "161"), Crafted("craft_a", "162"))
CAMPAIGN_BUDGETS = {"161": 3850.0, "162": 3900.0}  # 6200 > 1.6 x 3850 = 6160; 6200 < 1.6 x 3900 = 6240
# Workspace pacing: craft_b (one plain campaign) just inside, craft_c beyond.
WORKSPACE_CASES = (Crafted("craft_b", "201"), Crafted("craft_c", "301"), Crafted("craft_c", "302", {"value": 0.0, "conversions": 0.0}))
# ACOS 0.5 on Google Ads: no alert without a target of the workspace's own (acos_above defaults to Amazon Ads),
# nor when the workspace's target names Amazon Ads only.
ACOS_SCOPE_CASES = (Crafted("no_target", "501", base={"value": 400.0}), Crafted("amazon_target", "601", base={"value": 400.0}))
# The same budget step (spend x3.5 on LAST, ROAS and CPA unchanged) declared for 701, not for 702.
STEP = {"spend": 700.0, "value": 3500.0, "conversions": 35.0, "clicks": 700, "impressions": 35000}
PLANNED_CASES = (Crafted("planned_ws", "701", STEP), Crafted("planned_ws", "702", STEP))
PLANNED_CHANGES = [
    ("planned_ws", "budget_step-701", "budget_step", "google_ads", "701", LAST, LAST, 14, "Black Friday budget"),
]
# ROAS at 45% of its level on 40 clicks and 4 conversions a day: within chance, no alert.
LOW_VOLUME_DIP = Crafted("craft_a", "175", {"value": 450.0}, {"clicks": 40, "conversions": 4.0})
# Spend x1.55 with 4 conversions where the clicks would have brought 10: under half, but within chance (4 > 2.9).
CONVERSIONS_DOWN_BY_CHANCE = Crafted("craft_a", "113", {"spend": 310.0, "conversions": 4.0, "value": 1600.0})
# Spend at its usual 200 on LAST after a dip to 60 the day before: 3.3 x the previous day, yet no spike.
BACK_AFTER_A_DIP = Crafted("craft_a", "133", day_before={"spend": 60.0, "impressions": 3000, "clicks": 60, "conversions": 3.0, "value": 300.0})
# The same day as RULE_CASES' 101 (value 4,900 where 10,000 is usual, on 100 conversions a day) on a campaign whose
# value swings 8,000 / 12,000 from day to day: 1.9 chance spreads each day, a dispersion of about 3.7, so a day
# under half its value is within what the campaign does; no alert.
NOISY_DIP = Crafted("craft_a", "103", {"value": 4900.0}, {**BIG, "value": 12000.0}, odd_days={"value": 8000.0})
# No conversions on a campaign with 4 a day: on the last 3 days (the clicks would have brought 11.1 together: beyond
# the 9 needed) and on the last 2 only (7.7 together: inside, and neither day alone is near).
SLOW_BREAK = Crafted("craft_a", "193", base={"clicks": 100, "conversions": 4.0, "value": 400.0}, last_3_days={"conversions": 0.0, "value": 0.0})
SLOW_BREAK_TWO_DAYS = Crafted(
    "craft_a", "194", {"conversions": 0.0, "value": 0.0}, {"clicks": 100, "conversions": 4.0, "value": 400.0},
    day_before={"conversions": 0.0, "value": 0.0},
)  # fmt: skip
# The value at 30% of its usual level on the last 3 days: a collapse (roas_below_baseline's), not a slide.
COLLAPSE = Crafted("craft_a", "197", base=BIG, last_3_days={"conversions": 30.0, "value": 3000.0})
TINY = Crafted("craft_a", "171", {"clicks": 0}, {"spend": 5.0, "impressions": 40, "clicks": 1, "conversions": 0.0, "value": 0.0})

# Budget recommendations (min_daily_budget 25 for this workspace): daily spend, ROAS, conversions.
BUDGET = {
    "401": (100.0, 8.0, 10.0),  # recipient
    "402": (100.0, 2.0, 10.0),  # donor, capped by max_shift_share
    "403": (30.0, 2.0, 3.0),  # donor, capped by the floor
    "404": (10.0, 10.0, 5.0),  # high ROAS, too little spend: ineligible
    "405": (50.0, 10.0, 0.2),  # high ROAS, too few conversions: ineligible
    "406": (100.0, 5.0, 10.0),  # near the workspace's ROAS: neutral
    "407": (100.0, 9.0, 10.0),  # recipient
}
BUDGET_CAMPAIGNS = [
    Crafted("budget_ws", cid, base={"spend": s, "value": s * r, "conversions": c}, start=START + timedelta(days=0))
    for cid, (s, r, c) in BUDGET.items()
]

SETTINGS = [
    ("craft_b", "budget_monthly", "3900"),
    ("craft_c", "budget_monthly", "7700"),  # two campaigns -> projected 12400 > 1.6 x 7700 = 12320
    ("craft_a", "rule.acos_above.threshold", "0.3"),  # the workspace's own ACOS target: every platform
    ("craft_a", "rule.roas_below_floor.threshold", "2.0"),  # its own ROAS floor (the rule is off by default)
    ("craft_c", "rule.acos_above.enabled", "false"),
    ("amazon_target", "rule.acos_above.threshold", "0.3"),
    ("amazon_target", "rule.acos_above.platforms", "amazon_ads"),
    ("budget_ws", "budget_min_daily_budget", "25"),
]


def all_campaigns() -> list[Crafted]:
    out = [c for pair in RULE_CASES.values() for c in pair]
    return out + list(PACING_CASES) + list(WORKSPACE_CASES) + list(ACOS_SCOPE_CASES) + list(PLANNED_CASES) + [LOW_VOLUME_DIP, NOISY_DIP, BACK_AFTER_A_DIP, CONVERSIONS_DOWN_BY_CHANCE, COLLAPSE, SLOW_BREAK, SLOW_BREAK_TWO_DAYS, TINY] + BUDGET_CAMPAIGNS


def day_numbers(c: Crafted, day: date) -> dict:
    numbers = {**BASE, **c.base}
    if LAST - timedelta(days=2) <= day <= LAST:
        numbers.update(c.last_3_days)
    if day == LAST:
        numbers.update(c.last_day)
    elif day == LAST - timedelta(days=1):
        numbers.update(c.day_before)
    if day != LAST and (day - START).days % 2 == 1:
        numbers.update(c.odd_days)
    return numbers


def payload(c: Crafted, day: date) -> dict:
    n = day_numbers(c, day)
    metrics = {
        "clicks": str(n["clicks"]),
        "costMicros": str(round(n["spend"] * 1_000_000)),
        "impressions": str(n["impressions"]),
        "conversions": float(n["conversions"]),
        "conversionsValue": float(n["value"]),
    }
    return {
        "campaign": {"resourceName": f"customers/{ACCOUNTS[c.workspace_id]}/campaigns/{c.campaign_id}", "id": c.campaign_id, "name": f"Campaign {c.campaign_id}"},
        "segments": {"date": day.isoformat()},
        "metrics": {k: v for k, v in metrics.items() if v not in ("0", 0.0)},
    }


def build(pg_server, workdir: Path) -> str:
    dbname = pg_server.create_database(prefix="crafted")
    dsn = pg_server.dsn(dbname)
    conn = psycopg2.connect(dsn)
    try:
        ensure_schema(conn)
        with conn.cursor() as cur:
            for ws, account in ACCOUNTS.items():
                cur.execute(
                    "insert into ops.workspace_accounts values (%s, 'google_ads', %s, %s, 'USD', 'America/New_York', 'USD')",
                    (ws, account, ws),
                )
            for change in PLANNED_CHANGES:
                cur.execute("insert into ops.planned_changes values (%s, %s, %s, %s, %s, %s, %s, %s, %s)", change)
            for ws, setting, value in SETTINGS:
                cur.execute("insert into ops.workspace_settings values (%s, %s, %s)", (ws, setting, value))
            for cid, budget in CAMPAIGN_BUDGETS.items():
                cur.execute("insert into ops.campaign_budgets values ('craft_a', 'google_ads', %s, %s)", (cid, budget))
            rows = []
            extracted = datetime(2025, 3, 31, 6, tzinfo=UTC)
            for c in all_campaigns():
                day = c.start
                while day <= LAST:
                    if day in c.silent:
                        day += timedelta(days=1)
                        continue
                    rows.append((c.workspace_id, ACCOUNTS[c.workspace_id], day, json.dumps(payload(c, day)), "run-1", START, LAST, extracted))
                    day += timedelta(days=1)
            psycopg2.extras.execute_values(
                cur,
                "insert into raw.google_ads__campaign_performance (workspace_id, account_id, report_date, payload, "
                "sync_run_id, window_start, window_end, extracted_at) values %s",
                rows,
            )
        conn.commit()
    finally:
        conn.close()
    from test_anomalies_detection import BUILD_ARGS

    run_dbt(BUILD_ARGS, dbt_env(pg_server.port, dbname, pg_server.password), workdir)
    return dsn


__all__ = ["build", "fetch"]
