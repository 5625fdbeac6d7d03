"""LinkedIn adapter against the in-process sandbox: Rest.li encoding, long-precision cost, no paging, expired tokens."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
import requests
from sandbox_clients import DEMO_END, http

from adapters.errors import BadResponseError, ReauthRequiredError
from adapters.linkedin import (
    LinkedInAnalyticsClient,
    analytics_query,
    classify,
    entity_search_query,
    parse_campaigns_page,
    parse_creatives_page,
    report_date,
)
from sandbox.platforms.linkedin import campaign_group_of

END = DEMO_END  # the last day of the shared `world` fixture
ACCOUNT = "508000001"


def refreshing_client(sandbox, **kwargs) -> LinkedInAnalyticsClient:
    c = sandbox.credentials["linkedin"]
    return LinkedInAnalyticsClient(
        sandbox.platform_url("linkedin"),
        client_id=c["client_id"],
        client_secret=c["client_secret"],
        refresh_token=c["refresh_token"],
        token_url=sandbox.platform_url("linkedin") + "/oauth/v2/accessToken",
        http=http("linkedin", classify),
        **kwargs,
    )


def by_key(pages) -> dict:
    return {(r["pivotValues"][0].rsplit(":", 1)[1], report_date(r)): r for p in pages for r in p.records}


def test_restli_query_keeps_structure_literal_and_encodes_urns():
    query = analytics_query("123", date(2024, 1, 1), date(2024, 1, 31))
    assert "dateRange=(start:(year:2024,month:1,day:1),end:(year:2024,month:1,day:31))" in query
    assert "accounts=List(urn%3Ali%3AsponsoredAccount%3A123)" in query


def test_the_sandbox_refuses_ordinary_form_encoding(sandbox):
    token = sandbox.platform_api("linkedin").issue_static_token()
    response = requests.get(
        sandbox.platform_url("linkedin") + "/rest/adAnalytics",
        params={
            "q": "analytics",
            "pivot": "CAMPAIGN",
            "timeGranularity": "DAILY",
            "dateRange": "(start:(year:2026,month:11,day:1),end:(year:2026,month:11,day:2))",
            "accounts": "List(urn:li:sponsoredAccount:508000001)",
            "fields": "dateRange,pivotValues,impressions",
        },
        headers={"Authorization": f"Bearer {token}", "LinkedIn-Version": "202411", "X-Restli-Protocol-Version": "2.0.0"},
        timeout=10,
    )
    assert response.status_code == 400  # what a client that let `requests` encode the query would get


def test_cost_is_a_long_precision_string_kept_exact(sandbox, world):
    rows = by_key(refreshing_client(sandbox).fetch_ad_analytics(ACCOUNT, END - timedelta(days=4), END))
    truth = world.truth_rows("linkedin", ACCOUNT, END - timedelta(days=4), END)
    assert len(rows) == len(truth) == 10
    for t in truth:
        row = rows[(t["campaign_id"], t["date"])]
        assert isinstance(row["costInLocalCurrency"], str) and len(row["costInLocalCurrency"]) > 10
        assert Decimal(row["costInLocalCurrency"]).quantize(Decimal("0.01")) == Decimal(str(t["spend"]))
        assert row["impressions"] == t["impressions"] and row["externalWebsiteConversions"] == t["conversions"]


def test_no_paging_so_requests_split_by_account_and_date_range(sandbox, world):
    since = END - timedelta(days=89)
    pages = list(refreshing_client(sandbox).fetch_ad_analytics(ACCOUNT, since, END))
    assert len(pages) == 3
    for page in pages:
        query = page.request["params"]["query"]
        assert query.count("urn%3Ali%3AsponsoredAccount%3A") == 1
    assert set(by_key(pages)) == {(t["campaign_id"], t["date"]) for t in world.truth_rows("linkedin", ACCOUNT, since, END)}


def test_an_expired_access_token_is_refreshed_mid_extract(sandbox, world):
    api = sandbox.platform_api("linkedin")
    c = refreshing_client(sandbox)
    seen = []

    def expire_after_first(response, *args, **kwargs):
        if "adAnalytics" in response.url:
            seen.append(response.status_code)
            if len(seen) == 1:
                api.expire_tokens()

    c.http.session.hooks["response"].append(expire_after_first)
    since = END - timedelta(days=59)
    rows = by_key(c.fetch_ad_analytics(ACCOUNT, since, END))
    assert len(rows) == 60 * 2
    assert 401 in seen and c.auth.refresh_count == 2


def test_an_expired_token_without_a_refresh_token_needs_a_human(sandbox):
    api = sandbox.platform_api("linkedin")
    token = api.issue_static_token()
    api.expire_tokens()
    c = LinkedInAnalyticsClient(sandbox.platform_url("linkedin"), access_token=token, http=http("linkedin", classify))
    with pytest.raises(ReauthRequiredError):
        list(c.fetch_ad_analytics(ACCOUNT, END, END))


def test_entity_search_keeps_restli_structure_literal_and_asks_for_every_status():
    query = entity_search_query(50, "cursor/2=")
    assert "search=(status:(values:List(ACTIVE,PAUSED,ARCHIVED,COMPLETED," in query  # past campaigns need names too
    assert "pageToken=cursor%2F2%3D" in query and "pageSize=50" in query


def test_campaigns_are_paged_by_next_page_token_with_their_group(sandbox, world):
    api = sandbox.platform_api("linkedin")
    pages = list(refreshing_client(sandbox, entity_page_size=1).fetch_campaigns(ACCOUNT))
    account = world.account("linkedin", ACCOUNT)
    assert len(pages) == len(account.campaigns) == api.calls["adCampaigns"] == 2
    records = {str(r["id"]): r for p in pages for r in p.records}
    assert {k: r["name"] for k, r in records.items()} == {c.campaign_id: c.name for c in account.campaigns}
    for campaign in account.campaigns:
        group_id, _ = campaign_group_of(ACCOUNT, campaign.name)
        assert records[campaign.campaign_id]["campaignGroup"] == f"urn:li:sponsoredCampaignGroup:{group_id}"


def test_campaign_groups_cover_every_group_the_campaigns_name(sandbox, world):
    c = refreshing_client(sandbox)
    groups = {str(r["id"]): r["name"] for p in c.fetch_campaign_groups(ACCOUNT) for r in p.records}
    named = {r["campaignGroup"].rsplit(":", 1)[1] for p in c.fetch_campaigns(ACCOUNT) for r in p.records}
    assert named and named <= set(groups)
    expected = {str(i): n for i, n in (campaign_group_of(ACCOUNT, x.name) for x in world.account("linkedin", ACCOUNT).campaigns)}
    assert groups == expected


def test_a_campaign_without_a_numeric_id_is_a_bad_response():
    with pytest.raises(BadResponseError, match=r"elements\[1\]"):
        parse_campaigns_page(b'{"elements": [{"id": 1, "name": "a"}, {"name": "b"}], "metadata": {}}')


def test_creative_analytics_cover_every_creative_day_and_sum_to_the_campaigns(sandbox, world):
    since = END - timedelta(days=40)  # two 30-day windows
    c = refreshing_client(sandbox)
    pages = list(c.fetch_creative_analytics(ACCOUNT, since, END))
    assert len(pages) == 2 and all("pivot=CREATIVE" in p.request["params"]["query"] for p in pages)
    rows = {(r["pivotValues"][0].rsplit(":", 1)[1], report_date(r)): r for p in pages for r in p.records}
    truth = {(t["ad_group_id"], t["date"]): t for t in world.truth_rows("linkedin", ACCOUNT, since, END, level="ad_group")}
    assert set(rows) == set(truth)
    creative_campaign = {
        str(r["id"]).rsplit(":", 1)[1]: r["campaign"].rsplit(":", 1)[1] for p in c.fetch_creatives(ACCOUNT) for r in p.records
    }
    for (campaign_id, day), campaign in by_key(c.fetch_ad_analytics(ACCOUNT, since, END)).items():
        parts = [r for (creative, d), r in rows.items() if d == day and creative_campaign[creative] == campaign_id]
        assert len(parts) >= 2
        assert sum(p["impressions"] for p in parts) == campaign["impressions"]
        assert sum(Decimal(p["costInLocalCurrency"]).quantize(Decimal("0.01")) for p in parts) == Decimal(campaign["costInLocalCurrency"]).quantize(Decimal("0.01"))


def test_creatives_list_is_a_criteria_finder_with_urn_ids_and_names(sandbox, world):
    pages = list(refreshing_client(sandbox, entity_page_size=3).fetch_creatives(ACCOUNT))
    assert all(p.request["params"]["query"].startswith("q=criteria&") for p in pages)
    expected = {
        f"urn:li:sponsoredCreative:{g.ad_group_id}": (g.name, f"urn:li:sponsoredCampaign:{x.campaign_id}")
        for x in world.account("linkedin", ACCOUNT).campaigns
        for g in world.ad_groups("linkedin", ACCOUNT, x.campaign_id)
    }
    assert len(pages) == -(-len(expected) // 3)
    assert {r["id"]: (r["name"], r["campaign"]) for p in pages for r in p.records} == expected


def test_a_creative_without_its_campaign_is_a_bad_response():
    with pytest.raises(BadResponseError, match="campaign"):
        parse_creatives_page(b'{"elements": [{"id": "urn:li:sponsoredCreative:1", "name": "x"}], "metadata": {}}')
