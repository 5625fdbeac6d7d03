"""Snapchat adapter against the in-process sandbox: 30-minute tokens, micro-currency, paging, 429, local days."""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sandbox_clients import DEMO_END, Sleeps, http

from adapters.errors import BadResponseError
from adapters.snapchat import (
    SnapchatStatsClient,
    classify,
    parse_ad_squad_stats_page,
    parse_campaigns_page,
    parse_page,
    report_date,
)

END = DEMO_END  # the last day of the shared `world` fixture
ACCOUNT = "8f2b7a4e-5c1d-4e3a-9b6f-2d8c0e1a7b3c"


def client(sandbox, sleeps=None, **kwargs) -> SnapchatStatsClient:
    c = sandbox.credentials["snapchat"]
    return SnapchatStatsClient(
        sandbox.platform_url("snapchat"),
        c["client_id"],
        c["client_secret"],
        c["refresh_token"],
        token_url=sandbox.platform_url("snapchat") + "/login/oauth2/access_token",
        http=http("snapchat", classify, sleeps),
        **kwargs,
    )


def by_key(pages) -> dict:
    return {(r["id"], report_date(r)): r for p in pages for r in p.records}


def test_spend_and_purchase_value_are_micro_currency(sandbox, world):
    rows = by_key(client(sandbox).fetch_campaign_stats(ACCOUNT, END - timedelta(days=3), END))
    truth = world.truth_rows("snapchat", ACCOUNT, END - timedelta(days=3), END)
    assert len(rows) == len(truth) == 8
    for t in truth:
        stats = rows[(t["campaign_id"], t["date"])]["stats"]
        assert stats["spend"] == round(t["spend"] * 1_000_000)  # staging divides by 1e6
        assert stats["conversion_purchases_value"] == round(t["conversion_value"] * 1_000_000)
        assert stats["swipes"] == t["clicks"] and stats["conversion_purchases"] == t["conversions"]


def test_a_token_expiring_mid_extract_is_refreshed_and_nothing_is_lost(sandbox, world):
    api = sandbox.platform_api("snapchat")
    now = [1000.0]
    api.clock = lambda: now[0]
    c = client(sandbox)
    stats_calls = []

    def after_response(response, *args, **kwargs):
        if "/stats" in response.url:
            stats_calls.append(response.status_code)
            if len(stats_calls) == 1:
                now[0] += 31 * 60  # the 30-minute token expires between two campaigns' requests

    c.http.session.hooks["response"].append(after_response)
    since = END - timedelta(days=9)
    rows = by_key(c.fetch_campaign_stats(ACCOUNT, since, END))
    assert set(rows) == {(t["campaign_id"], t["date"]) for t in world.truth_rows("snapchat", ACCOUNT, since, END)}
    assert 401 in stats_calls  # the server did reject the stale token
    assert api.calls["token"] == 2 and c.auth.refresh_count == 2


def test_campaign_lists_are_followed_through_next_link(sandbox):
    api = sandbox.platform_api("snapchat")
    campaigns = client(sandbox, campaign_page_size=1).campaigns(ACCOUNT)
    assert [c["name"] for c in campaigns] == ["Story Ads - Gift Sets", "Collection Ads - Matcha"]
    assert api.calls["campaigns"] == 2


def test_campaign_list_pages_land_whole_with_every_campaign_and_its_name(sandbox, world):
    pages = list(client(sandbox, campaign_page_size=1).fetch_campaigns(ACCOUNT))
    expected = {c.campaign_id: c.name for c in world.account("snapchat", ACCOUNT).campaigns}
    assert len(pages) == len(expected) == 2  # one campaign per page: paging.next_link was followed
    assert {r["id"]: r["name"] for p in pages for r in p.records} == expected
    for page in pages:  # the lake keeps the body as sent, and it parses back to the same records
        assert parse_campaigns_page(page.body) == page.records
    assert json.loads(pages[0].body)["paging"]["next_link"] and not json.loads(pages[-1].body)["paging"].get("next_link")


def test_a_campaign_that_failed_in_the_list_is_an_error_not_a_gap():
    body = b'{"request_status": "SUCCESS", "campaigns": [{"sub_request_status": "ERROR", "sub_request_error_reason": "x"}]}'
    with pytest.raises(BadResponseError, match=r"campaigns\[0\]"):
        parse_campaigns_page(body)


def test_429_without_retry_after_backs_off_and_retries(sandbox):
    api = sandbox.platform_api("snapchat")
    sleeps = Sleeps()
    c = client(sandbox, sleeps)
    c.auth.apply({})  # token first, so the scripted 429 hits the stats call
    api.script(429, 429)
    rows = by_key(c.fetch_campaign_stats(ACCOUNT, END, END))
    assert len(rows) == 2
    assert len(sleeps) == 2 and all(s >= 0 for s in sleeps)  # jittered backoff: no Retry-After to honour


def test_days_are_the_accounts_local_days_across_a_dst_change(sandbox, world):
    since, until = date(2026, 10, 20), date(2026, 10, 30)  # Europe/London leaves BST on 25 October
    pages = list(client(sandbox).fetch_campaign_stats(ACCOUNT, since, until))
    starts = [r["start_time"] for p in pages for r in p.records]
    assert any(s.endswith("+01:00") for s in starts) and any(s.endswith("+00:00") for s in starts)
    days = {report_date(r) for p in pages for r in p.records}
    assert days == {since + timedelta(days=i) for i in range(11)}  # in UTC the +01:00 days would start a day early


@pytest.mark.parametrize("status", ["SUCCESS", "success", "Success"])
def test_status_strings_are_compared_without_case(status):
    payload = {
        "request_status": status.upper(),
        "timeseries_stats": [
            {
                "sub_request_status": status,
                "timeseries_stat": {
                    "id": "c1",
                    "type": "CAMPAIGN",
                    "granularity": "DAY",
                    "timeseries": [{"start_time": "2026-11-01T00:00:00.000-07:00", "end_time": "2026-11-02T00:00:00.000-08:00", "stats": {"spend": 1}}],
                },
            }
        ],
    }
    body = json.dumps(payload)
    assert parse_page(body.encode())[0]["id"] == "c1"


def test_a_failed_sub_request_is_reported():
    body = b'{"request_status": "SUCCESS", "timeseries_stats": [{"sub_request_status": "ERROR", "sub_request_error_reason": "x"}]}'
    with pytest.raises(BadResponseError):
        parse_page(body)


def test_ad_squad_stats_cover_every_ad_squad_day_and_sum_to_the_campaign_stats(sandbox, world):
    since = END - timedelta(days=5)
    c = client(sandbox)
    squads = list(c.fetch_ad_squad_stats(ACCOUNT, since, END))
    assert all(p.request["params"]["breakdown"] == "adsquad" for p in squads)
    truth = {(t["ad_group_id"], t["date"]): t for t in world.truth_rows("snapchat", ACCOUNT, since, END, level="ad_group")}
    rows = {(r["id"], report_date(r)): r for p in squads for r in p.records}
    assert set(rows) == set(truth) and all(r["type"] == "AD_SQUAD" for r in rows.values())
    for key, t in truth.items():
        assert rows[key]["campaign_id"] == t["campaign_id"]
        assert rows[key]["stats"]["spend"] == round(t["spend"] * 1_000_000)
    for (campaign_id, day), campaign in by_key(c.fetch_campaign_stats(ACCOUNT, since, END)).items():
        parts = [r["stats"] for r in rows.values() if r["campaign_id"] == campaign_id and report_date(r) == day]
        assert len(parts) >= 2
        for field in ("impressions", "swipes", "spend", "conversion_purchases", "conversion_purchases_value", "video_views"):
            assert sum(p[field] for p in parts) == campaign["stats"][field], field


def test_ad_squads_list_names_each_squad_and_its_campaign(sandbox, world):
    pages = list(client(sandbox, campaign_page_size=2).fetch_ad_squads(ACCOUNT))
    expected = {
        g.ad_group_id: (g.name, c.campaign_id)
        for c in world.account("snapchat", ACCOUNT).campaigns
        for g in world.ad_groups("snapchat", ACCOUNT, c.campaign_id)
    }
    assert len(pages) == -(-len(expected) // 2)
    assert {r["id"]: (r["name"], r["campaign_id"]) for p in pages for r in p.records} == expected


def test_an_ad_squad_breakdown_missing_from_the_answer_is_a_bad_response():
    body = b'{"request_status": "SUCCESS", "timeseries_stats": [{"sub_request_status": "SUCCESS", "timeseries_stat": {"id": "c1", "timeseries": []}}]}'
    with pytest.raises(BadResponseError, match="breakdown_stats"):
        parse_ad_squad_stats_page(body)


def test_one_extract_asks_for_the_account_and_its_campaign_list_once(sandbox):
    """Every report of an extract needs the campaign list; the client fetches it (and the account) once."""
    c = client(sandbox)
    since = END - timedelta(days=3)
    campaigns = [r for page in c.fetch_campaigns(ACCOUNT) for r in page.records]
    stats = list(c.fetch_campaign_stats(ACCOUNT, since, END))
    squads = list(c.fetch_ad_squad_stats(ACCOUNT, since, END))
    assert len(stats) == len(squads) == len(campaigns) > 1  # one stats call per campaign and report
    endpoints = sandbox.stats()["snapchat"]["endpoints"]
    lists = {name: n for name, n in endpoints.items() if "campaigns" in name and "stats" not in name}
    accounts = {name: n for name, n in endpoints.items() if "adaccount" in name and "campaigns" not in name and "adsquads" not in name}
    assert sum(lists.values()) == 1, endpoints
    assert sum(accounts.values()) == 1, endpoints
    # A second client (the next extract) asks again.
    list(client(sandbox).fetch_campaigns(ACCOUNT))
    assert sum(n for name, n in sandbox.stats()["snapchat"]["endpoints"].items() if name in lists) == 2


def test_stats_are_asked_for_under_the_products_attribution_windows_and_say_so(sandbox):
    from adapters.snapchat import SWIPE_UP_ATTRIBUTION_WINDOW, VIEW_ATTRIBUTION_WINDOW

    pages = list(client(sandbox).fetch_campaign_stats(ACCOUNT, END - timedelta(days=1), END))
    assert pages
    for page in pages:
        assert page.request["params"]["swipe_up_attribution_window"] == SWIPE_UP_ATTRIBUTION_WINDOW == "7_DAY"
        assert page.request["params"]["view_attribution_window"] == VIEW_ATTRIBUTION_WINDOW == "1_DAY"
        for item in json.loads(page.body)["timeseries_stats"]:
            stat = item["timeseries_stat"]
            assert (stat["swipe_up_attribution_window"], stat["view_attribution_window"]) == ("7_DAY", "1_DAY")


def test_stats_under_other_windows_than_asked_are_refused():
    from adapters.snapchat.parse import check_attribution_windows

    def body(swipe_up):
        stat = {"id": "c1", "swipe_up_attribution_window": swipe_up, "view_attribution_window": "1_DAY", "timeseries": []}
        return json.dumps({"request_status": "SUCCESS", "timeseries_stats": [{"sub_request_status": "SUCCESS", "timeseries_stat": stat}]}).encode()

    check_attribution_windows(body("7_DAY"), "7_DAY", "1_DAY")
    with pytest.raises(BadResponseError, match="swipe_up_attribution_window 28_DAY, not the 7_DAY asked for"):
        check_attribution_windows(body("28_DAY"), "7_DAY", "1_DAY")


def test_the_sandbox_refuses_an_attribution_window_snapchat_does_not_have(sandbox):
    import requests

    c = client(sandbox)
    page = next(iter(c.fetch_campaign_stats(ACCOUNT, END - timedelta(days=1), END)))
    headers: dict[str, str] = {}
    c.auth.apply(headers)
    r = requests.get(page.request["url"], params={**page.request["params"], "swipe_up_attribution_window": "2_DAY"}, headers=headers, timeout=10)
    assert r.status_code == 400 and "swipe_up_attribution_window must be one of" in r.text
