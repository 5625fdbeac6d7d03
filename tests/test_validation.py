"""Raw batch validation (Great Expectations): what each check flags, and when a batch is refused whole."""

from __future__ import annotations

import copy
from datetime import date, timedelta

from ads_elt.ingestion.validation import Record, validate_batch

END = date(2026, 11, 20)
START = END - timedelta(days=2)


def meta_record(campaign: str, day: date, spend="10.00", impressions="1000", clicks="20") -> dict:
    return {"campaign_id": campaign, "date_start": day.isoformat(), "spend": spend, "impressions": impressions, "clicks": clicks}


def records(rows: list[dict]) -> list[Record]:
    return [Record("page-00001.json", i, r, date.fromisoformat(r.get("date_start") or r["segments"]["date"])) for i, r in enumerate(rows, 1)]


def good_meta() -> list[dict]:
    return [meta_record(c, START + timedelta(days=d)) for d in range(3) for c in ("1", "2", "3")]


def test_a_clean_batch_passes_every_check():
    result = validate_batch("meta", records(good_meta()), START, END)
    assert not result.bad and not result.missing_days and result.rejected is None
    assert result.expected_days == 3 and all(result.checks.values())


def test_each_bad_value_is_flagged_with_its_reason():
    rows = good_meta()
    rows[0]["spend"] = "-4.20"
    rows[1]["clicks"] = "5000"
    rows[2]["impressions"] = "lots"
    rows.append(copy.deepcopy(rows[4]))
    result = validate_batch("meta", records(rows), START, END)
    assert {i: (f.check, f.reason) for i, f in result.bad.items()} == {
        0: ("negative_value", "spend is negative (-4.2)"),
        1: ("clicks_over_impressions", "clicks (5000) exceed impressions (1000)"),
        2: ("schema", "impressions is not a number ('lots')"),
        9: ("duplicate", f"duplicate of page-00001.json record 5 (campaign 2, {START + timedelta(days=1)})"),
    }
    assert result.rejected is None
    # Duplicates do not break a day; wrong values do.
    assert result.breaking_days(records(rows)) == [START]


def test_a_missing_day_is_reported_from_the_first_day_with_data():
    rows = [r for r in good_meta() if r["date_start"] != (START + timedelta(days=1)).isoformat()]
    result = validate_batch("meta", records(rows), START - timedelta(days=5), END)
    assert result.missing_days == [START + timedelta(days=1)]  # days before the account's first data are not expected
    assert result.expected_days == 3


def test_google_ads_absent_metrics_mean_zero_and_micros_are_units():
    rows = [
        {"campaign": {"id": "7"}, "segments": {"date": END.isoformat()}, "metrics": {"costMicros": "-1500000"}},
        {"campaign": {"id": "8"}, "segments": {"date": END.isoformat()}},
    ]
    result = validate_batch("google_ads", records(rows), END, END)
    assert {i: f.reason for i, f in result.bad.items()} == {0: "spend is negative (-1.5)"}


def test_a_batch_mostly_bad_or_without_a_required_field_is_rejected_whole(monkeypatch):
    rows = good_meta()
    for r in rows[:6]:
        r["spend"] = "-1"
    assert "6 of 9 records failed validation" in validate_batch("meta", records(rows), START, END).rejected
    monkeypatch.setenv("ADS_ELT_MAX_BAD_ROW_SHARE", "0.9")
    assert validate_batch("meta", records(rows), START, END).rejected is None
    rows = good_meta()
    for r in rows:
        del r["campaign_id"]
    assert "no record has campaign_id" in validate_batch("meta", records(rows), START, END).rejected


def messy_batches():
    """Batches with every kind of bad record, for comparing the two validation engines."""
    meta = good_meta()
    meta[0]["spend"] = "-4.20"
    meta[1]["clicks"] = "5000"
    meta[2]["impressions"] = "lots"
    meta[3]["spend"] = "nan"  # reads as a number, but null
    meta[4]["clicks"] = True  # JSON true is not a number
    meta[5]["campaign_id"] = ""
    del meta[6]["impressions"]  # absent: zero, so clicks exceed it
    meta[7]["impressions"] = None
    meta.append(copy.deepcopy(meta[8]))  # a duplicate
    meta.append(copy.deepcopy(meta[0]))  # a duplicate of a bad record
    meta.append(meta_record("9", START - timedelta(days=1)))  # outside the window
    google = [
        {"campaign": {"id": "7"}, "segments": {"date": END.isoformat()}, "metrics": {"costMicros": "-1500000", "clicks": "3"}},
        {"campaign": {"id": "8"}, "segments": {"date": END.isoformat()}},
        {"campaign": {"id": "8"}, "segments": {"date": END.isoformat()}, "metrics": {"impressions": " 12 ", "clicks": 40}},
        {"campaign": 7, "segments": {"date": END.isoformat()}, "metrics": {"conversionsValue": "x"}},
        {"segments": {"date": START.isoformat()}, "metrics": []},
    ]
    return [("meta", meta, START, END), ("google_ads", google, START, END), ("meta", good_meta(), START - timedelta(days=3), END)]


def test_the_numpy_checks_give_what_great_expectations_gives():
    from ads_elt.ingestion.validation import build_frame, expected_days_for, outcomes_vectorised
    from ads_elt.ingestion.validation_gx import outcomes_great_expectations

    for n, (platform, rows, start, end) in enumerate(messy_batches()):
        recs = records(rows)
        frame, _ = build_frame(platform, recs)
        expected = expected_days_for(start, end, min(r.report_date for r in recs))
        by_gx = outcomes_great_expectations(frame, platform, start, end, expected)
        by_numpy = outcomes_vectorised(frame, platform, start, end, expected)
        assert [(o.name, o.success, o.lines) for o in by_numpy] == [(o.name, o.success, o.lines) for o in by_gx], platform
        assert any(not o.success for o in by_gx) == (n < 2)  # the first two batches break checks, the last one none
        gx_result = validate_batch(platform, recs, start, end, engine=outcomes_great_expectations)
        numpy_result = validate_batch(platform, recs, start, end)
        assert list(numpy_result.bad.items()) == list(gx_result.bad.items()), platform
        assert (numpy_result.checks, numpy_result.missing_days, numpy_result.rejected) == (
            gx_result.checks,
            gx_result.missing_days,
            gx_result.rejected,
        )
