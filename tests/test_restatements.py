"""mart_restatements on the demo world: what each account-day held when first extracted against what it holds
three report days later (the sandbox restates recent days with late conversions), and when it stopped changing."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest
from e2e_worlds import NEXT_DAY, REPORT_DATE

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("demo")]

MEASURES = ("spend", "conversions", "conversion_value")


def account_days(step) -> dict[tuple, dict[str, Decimal]]:
    out: dict[tuple, dict[str, Decimal]] = defaultdict(lambda: dict.fromkeys(MEASURES, Decimal(0)))
    for day, ws, platform, account, *values in step.query(
        f"select date_day, workspace_id, platform, account_id, {', '.join(MEASURES)} from marts.fct_ad_performance_daily"
    ):
        for m, v in zip(MEASURES, values, strict=True):
            out[(day, ws, platform, account)][m] += Decimal(v or 0)
    return out


def test_each_account_day_keeps_its_first_extraction_beside_its_latest(demo):
    first, now = account_days(demo.first), account_days(demo.next_day)
    rows = demo.next_day.query(
        "select date_day, workspace_id, platform, account_id, first_spend, latest_spend, first_conversions, latest_conversions, "
        "first_conversion_value, latest_conversion_value, restatements, first_extracted_through, last_changed_through, "
        "days_until_final, conversions_change, conversion_value_change_share from marts.mart_restatements"
    )
    assert {r[:4] for r in rows} == set(now)
    restated = 0
    for r in rows:
        key, (fs, ls, fc, lc, fv, lv, restatements, first_through, changed_through, days_until_final, dconv, dshare) = r[:4], r[4:]
        assert (ls, lc, lv) == tuple(now[key][m] for m in MEASURES), key
        if key in first:  # seen by the first run: its first extraction is what that run loaded
            assert (fs, fc, fv) == tuple(first[key][m] for m in MEASURES), key
            assert first_through == REPORT_DATE
        assert days_until_final == (changed_through - key[0]).days
        assert dconv == lc - fc
        if (fs, fc, fv) != (ls, lc, lv):
            restated += 1
            assert restatements >= 1 and changed_through == NEXT_DAY, key  # changed by the run three days later
            assert dshare is None or abs(float(dshare) - float((lv - fv) / fv)) < 1e-9
        else:
            assert restatements == 0 and changed_through == first_through
    assert restated >= 3  # late conversions restate recent days on several accounts
