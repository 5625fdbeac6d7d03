"""Amazon Ads adapter against the in-process sandbox: async reports, 425 duplicates, pre-signed downloads, LwA tokens."""

from __future__ import annotations

import gzip
from datetime import date, timedelta

import pytest
import requests
from sandbox_clients import DEMO_END, Sleeps, http

from adapters.amazon_ads import DONE, AmazonAdsReportClient, classify, parse_ad_group_page, report_date
from adapters.errors import BadResponseError, TransientError

END = DEMO_END  # the last day of the shared `world` fixture
PROFILE = "3100000000000001"


def client(sandbox) -> AmazonAdsReportClient:
    c = sandbox.credentials["amazon_ads"]
    return AmazonAdsReportClient(
        sandbox.platform_url("amazon_ads"),
        c["client_id"],
        c["client_secret"],
        c["refresh_token"],
        token_url=sandbox.platform_url("amazon_ads") + "/auth/o2/token",
        http=http("amazon_ads", classify),
        download_http=http("amazon_ads", classify),
    )


def test_profiles_give_currency_and_time_zone(sandbox):
    profile = client(sandbox).profile(PROFILE)
    assert (profile["currencyCode"], profile["timezone"]) == ("USD", "America/Los_Angeles")


def test_a_report_goes_pending_processing_completed_then_downloads_gzip_json(sandbox, world):
    c = client(sandbox)
    (report,) = c.request_reports(PROFILE, END - timedelta(days=6), END)
    statuses = []
    while not statuses or statuses[-1]["status"] != DONE:
        statuses.append(c.report_status(PROFILE, report["report_id"]))
    assert [s["status"] for s in statuses] == ["PENDING", "PROCESSING", "COMPLETED"]
    assert statuses[0]["url"] is None and statuses[-1]["url"]
    raw = requests.get(statuses[-1]["url"], timeout=10).content
    assert raw[:2] == b"\x1f\x8b"  # the file itself is gzip: the client must decompress it
    page = c.download(statuses[-1])
    truth = world.truth_rows("amazon_ads", PROFILE, END - timedelta(days=6), END)
    rows = {(str(r["campaignId"]), report_date(r)): r for r in page.records}
    assert len(rows) == len(truth) == 14
    for t in truth:
        r = rows[(t["campaign_id"], t["date"])]
        assert (r["cost"], r["impressions"], r["clicks"], r["purchases7d"], r["sales7d"]) == (
            t["spend"],
            t["impressions"],
            t["clicks"],
            t["conversions"],
            t["conversion_value"],
        )
    assert b'"campaignId": 310000000000101' in page.body or b'"campaignId":310000000000101' in page.body


def test_a_duplicate_request_answered_425_reuses_the_existing_report(sandbox):
    api = sandbox.platform_api("amazon_ads")
    first = client(sandbox).request_reports(PROFILE, END - timedelta(days=2), END)
    again = client(sandbox).request_reports(PROFILE, END - timedelta(days=2), END)  # e.g. the task's retry
    assert first == again
    assert len(api.reports) == 1 and api.calls["create_report"] == 2


def test_at_most_31_days_per_report(sandbox):
    reports = client(sandbox).request_reports(PROFILE, END - timedelta(days=89), END)
    assert len(reports) == 3
    for r in reports:
        assert (date.fromisoformat(r["end"]) - date.fromisoformat(r["start"])).days + 1 <= 31


def test_the_presigned_url_is_fetched_without_auth_headers(sandbox):
    api = sandbox.platform_api("amazon_ads")
    api.polls_to_complete = 1
    c = client(sandbox)
    (report,) = c.request_reports(PROFILE, END, END)
    status = c.report_status(PROFILE, report["report_id"])
    refused = requests.get(status["url"], headers={"Authorization": "Bearer x"}, timeout=10)
    assert refused.status_code == 400 and b"Only one auth mechanism" in refused.content
    assert len(c.download(status).records) == 2
    assert api.downloads_with_auth_refused == 1  # only the deliberate one above


def test_an_expired_login_with_amazon_token_is_refreshed(sandbox):
    api = sandbox.platform_api("amazon_ads")
    c = client(sandbox)
    c.profiles()
    api.expire_tokens()
    assert c.profile(PROFILE)["currencyCode"] == "USD"
    assert api.calls["token"] == 2 and c.auth.refresh_count == 2


def test_a_failed_report_is_reported_as_retryable(sandbox):
    api = sandbox.platform_api("amazon_ads")
    api.polls_to_complete = 2
    api.script("FAILED")
    with pytest.raises(TransientError, match="failed"):
        list(client(sandbox).fetch_campaign_report(PROFILE, END, END, poll_seconds=0, sleep=Sleeps()))
    # A new request after the failure creates a new report rather than reusing the failed one.
    pages = list(client(sandbox).fetch_campaign_report(PROFILE, END, END, poll_seconds=0, sleep=Sleeps()))
    assert len(pages[0].records) == 2


def test_parse_page_reads_the_gzip_file():
    from adapters.amazon_ads import parse_page

    body = gzip.compress(b'[{"date": "2026-11-01", "campaignId": 1, "cost": 1.5}]')
    assert parse_page(body)[0]["cost"] == 1.5


def test_ad_group_reports_group_by_ad_group_and_sum_to_the_campaign_reports(sandbox, world):
    since = END - timedelta(days=40)  # two reports: the 31-day cap applies per group too
    c = client(sandbox)
    fine = list(c.fetch_ad_group_report(PROFILE, since, END, poll_seconds=0, sleep=Sleeps()))
    assert len(fine) == 2
    created = [r["configuration"] for r in sandbox.platform_api("amazon_ads").reports.values()]
    assert all(cfg["groupBy"] == ["adGroup"] and "adGroupId" in cfg["columns"] for cfg in created)
    truth = {(t["ad_group_id"], t["date"]): t for t in world.truth_rows("amazon_ads", PROFILE, since, END, level="ad_group")}
    rows = {(str(r["adGroupId"]), report_date(r)): r for p in fine for r in p.records}
    assert set(rows) == set(truth)
    for key, t in truth.items():
        assert (rows[key]["adGroupName"], str(rows[key]["campaignId"])) == (t["ad_group_name"], t["campaign_id"])
    campaigns = [r for p in c.fetch_campaign_report(PROFILE, since, END, poll_seconds=0, sleep=Sleeps()) for r in p.records]
    for campaign in campaigns:
        parts = [r for r in rows.values() if r["campaignId"] == campaign["campaignId"] and r["date"] == campaign["date"]]
        assert len(parts) >= 2
        assert sum(p["impressions"] for p in parts) == campaign["impressions"]
        assert sum(round(p["cost"] * 100) for p in parts) == round(campaign["cost"] * 100)
        assert sum(round(p["sales7d"] * 100) for p in parts) == round(campaign["sales7d"] * 100)


def test_an_ad_group_row_without_its_ad_group_is_a_bad_response():
    with pytest.raises(BadResponseError, match="adGroupId"):
        parse_ad_group_page(b'[{"date": "2026-11-20", "campaignId": 1, "cost": 1.0}]')
