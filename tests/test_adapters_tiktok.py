"""TikTok adapter against the in-process sandbox: HTTP-200 errors, "-" metrics, paging, 30-day windows."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sandbox_clients import DEMO_END, Sleeps, http

from adapters.errors import BadResponseError, PermanentError, ReauthRequiredError
from adapters.tiktok import TikTokReportClient, classify, parse_ad_group_page, parse_page, report_date

END = DEMO_END  # the last day of the shared `world` fixture
ADVERTISER = "7100000000000001"


def client(sandbox, sleeps=None, **kwargs) -> TikTokReportClient:
    return TikTokReportClient(
        sandbox.platform_url("tiktok"), sandbox.credentials["tiktok"]["access_token"], http=http("tiktok", classify, sleeps), **kwargs
    )


def rows_by_key(pages) -> dict:
    out = {}
    for page in pages:
        for record in page.records:
            key = (record["dimensions"]["campaign_id"], report_date(record))
            assert key not in out, key
            out[key] = record
    return out


def test_metrics_are_strings_with_dash_for_missing_and_days_are_timestamps(sandbox, world):
    pages = list(client(sandbox).fetch_campaign_report(ADVERTISER, END - timedelta(days=6), END))
    rows = rows_by_key(pages)
    truth = world.truth_rows("tiktok", ADVERTISER, END - timedelta(days=6), END)
    assert len(rows) == len(truth) == 14
    for t in truth:
        record = rows[(t["campaign_id"], t["date"])]
        assert record["dimensions"]["stat_time_day"] == f"{t['date']} 00:00:00"
        metrics = record["metrics"]
        assert metrics["spend"] == f"{t['spend']:.2f}" and metrics["impressions"] == str(t["impressions"])
        if "Search" in t["campaign_name"]:
            assert metrics["video_play_actions"] == "-"  # not a video campaign: staging must not cast "-"
        else:
            assert metrics["video_play_actions"] == str(t["video_play_actions"])


def test_rate_limit_and_system_error_come_with_http_200_and_are_retried(sandbox, world):
    api = sandbox.platform_api("tiktok")
    api.script(40100, 50000)
    sleeps = Sleeps()
    pages = list(client(sandbox, sleeps).fetch_campaign_report(ADVERTISER, END - timedelta(days=2), END))
    assert len(rows_by_key(pages)) == 6
    assert api.calls["report"] == 3  # two error answers (HTTP 200), then the data
    assert len(sleeps) == 2  # backed off twice; without reading `code` the error body would pass as an empty page


@pytest.mark.parametrize("code", [40001, 40002])
def test_permission_errors_are_permanent_not_retried(sandbox, code):
    api = sandbox.platform_api("tiktok")
    api.script(code)
    with pytest.raises(PermanentError) as err:
        list(client(sandbox).fetch_campaign_report(ADVERTISER, END, END))
    assert err.value.code == code and ADVERTISER in str(err.value)
    assert api.calls["report"] == 1


def test_an_invalid_token_needs_reauthorisation(sandbox):
    bad = TikTokReportClient(sandbox.platform_url("tiktok"), "not-the-token", http=http("tiktok", classify))
    with pytest.raises(ReauthRequiredError):
        list(bad.fetch_campaign_report(ADVERTISER, END, END))


def test_at_most_30_days_per_request_and_every_page_followed(sandbox, world):
    since = END - timedelta(days=89)
    pages = list(client(sandbox, page_size=25).fetch_campaign_report(ADVERTISER, since, END))
    spans = {(p.request["params"]["start_date"], p.request["params"]["end_date"]) for p in pages}
    assert len(spans) == 3
    for start, end in spans:
        assert (date.fromisoformat(end) - date.fromisoformat(start)).days + 1 <= 30
    assert len(pages) == 3 * 3  # 60 rows per window, 25 per page
    assert set(rows_by_key(pages)) == {(t["campaign_id"], t["date"]) for t in world.truth_rows("tiktok", ADVERTISER, since, END)}


def test_a_range_tiktok_finds_too_large_is_shrunk_until_it_passes(sandbox, world):
    api = sandbox.platform_api("tiktok")
    api.max_days = 7  # this advertiser's limit is lower than the documented 30 days: code 40067
    since = END - timedelta(days=19)
    pages = list(client(sandbox).fetch_campaign_report(ADVERTISER, since, END))
    assert set(rows_by_key(pages)) == {(t["campaign_id"], t["date"]) for t in world.truth_rows("tiktok", ADVERTISER, since, END)}
    for page in pages:
        p = page.request["params"]
        assert (date.fromisoformat(p["end_date"]) - date.fromisoformat(p["start_date"])).days + 1 <= 7


def test_request_carries_json_encoded_arrays_and_the_access_token_header(sandbox):
    page = next(client(sandbox).fetch_campaign_report(ADVERTISER, END, END))
    params = page.request["params"]
    assert json.loads(params["dimensions"]) == ["campaign_id", "stat_time_day"]
    assert "spend" in json.loads(params["metrics"])
    assert "access_token" not in json.dumps(page.request).lower()


def test_parse_page_rejects_an_error_envelope():
    from adapters.errors import BadResponseError

    with pytest.raises(BadResponseError):
        parse_page(b'{"code": 40100, "message": "Too many", "data": {}}')


def test_ad_group_report_has_every_ad_group_day_and_sums_to_the_campaign_report(sandbox, world):
    since = END - timedelta(days=34)  # two windows: the 30-day cap applies at ad group level too
    c = client(sandbox, page_size=50)
    fine = list(c.fetch_ad_group_report(ADVERTISER, since, END))
    assert all(json.loads(p.request["params"]["dimensions"]) == ["adgroup_id", "stat_time_day"] for p in fine)
    truth = {(t["ad_group_id"], t["date"]): t for t in world.truth_rows("tiktok", ADVERTISER, since, END, level="ad_group")}
    rows = {(r["dimensions"]["adgroup_id"], report_date(r)): r for p in fine for r in p.records}
    assert set(rows) == set(truth) and sum(len(p.records) for p in fine) == len(truth)
    for key, t in truth.items():
        metrics = rows[key]["metrics"]
        assert (metrics["adgroup_name"], metrics["campaign_id"]) == (t["ad_group_name"], t["campaign_id"])
        assert metrics["spend"] == f"{t['spend']:.2f}" and metrics["impressions"] == str(t["impressions"])
    campaign = rows_by_key(c.fetch_campaign_report(ADVERTISER, since, END))
    for (campaign_id, day), record in campaign.items():
        parts = [r["metrics"] for r in rows.values() if r["metrics"]["campaign_id"] == campaign_id and report_date(r) == day]
        assert len(parts) >= 2
        for metric in ("impressions", "clicks", "conversion"):
            assert sum(int(p[metric]) for p in parts) == int(record["metrics"][metric])
        assert sum(round(float(p["spend"]) * 100) for p in parts) == round(float(record["metrics"]["spend"]) * 100)


def test_an_ad_group_row_without_its_campaign_is_a_bad_response():
    body = {"code": 0, "message": "OK", "data": {"list": [{"dimensions": {"adgroup_id": "1", "stat_time_day": "2026-11-01 00:00:00"}, "metrics": {"spend": "1.00"}}], "page_info": {}}}
    with pytest.raises(BadResponseError, match="campaign_id"):
        parse_ad_group_page(json.dumps(body).encode())
