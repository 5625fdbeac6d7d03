"""The Google Ads adapter against the sandbox server (real HTTP, real wire format)."""

from __future__ import annotations

import json
import random
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from sandbox_clients import DEMO_END, Sleeps

from adapters import PLATFORMS
from adapters.errors import (
    AuthExpiredError,
    BadResponseError,
    PermanentError,
    RateLimitedError,
    ReauthRequiredError,
    TransientError,
)
from adapters.google_ads import GoogleAdsClient, classify, iter_page, parse_page, report_date
from adapters.http import HttpClient, RetryPolicy
from sandbox.server import SandboxServer
from sandbox.world import Account, Anomaly, Campaign, World

REPO = Path(__file__).resolve().parents[1]
END = DEMO_END  # the last day of the shared `world` fixture
CUSTOMER = "2345678901"


def make_client(sandbox, sleeps=None, retry=None, **overrides) -> GoogleAdsClient:
    g = {**sandbox.credentials["google_ads"], **overrides}
    http = HttpClient(
        "google_ads",
        sleep=sleeps if sleeps is not None else Sleeps(),
        rng=random.Random(5),
        retry=retry or RetryPolicy(max_attempts=3, backoff_base=0.5, backoff_max=2.0, max_total_wait=60.0),
    )
    return GoogleAdsClient(
        sandbox.google_ads_url,
        developer_token=g["developer_token"],
        client_id=g["client_id"],
        client_secret=g["client_secret"],
        refresh_token=g["refresh_token"],
        token_url=sandbox.google_token_url,
        login_customer_id=g.get("login_customer_id"),
        http=http,
    )


def fetch(client, since, until, customer=CUSTOMER):
    pages = list(client.fetch_campaign_performance(customer, since, until))
    assert len(pages) == 1
    return pages[0]


def test_one_page_with_every_campaign_day_matching_the_truth(sandbox, world):
    since = END - timedelta(days=13)
    page = fetch(make_client(sandbox), since, END)
    truth = world.truth_rows("google_ads", CUSTOMER, since, END)
    keys = [(r["campaign"]["id"], r["segments"]["date"]) for r in page.records]
    assert len(keys) == len(set(keys)) == len(truth) == 42
    by_key = {(r["campaign"]["id"], r["segments"]["date"]): r for r in page.records}
    for expected in truth:
        row = by_key[(expected["campaign_id"], expected["date"].isoformat())]
        metrics = row["metrics"]
        assert int(metrics["costMicros"]) / 1_000_000 == pytest.approx(expected["spend"])
        assert metrics["impressions"] == str(expected["impressions"])
        assert metrics["clicks"] == str(expected["clicks"])
        assert metrics["conversions"] == expected["conversions"]
        assert metrics["conversionsValue"] == expected["conversion_value"]
        assert report_date(row) == expected["date"]
    assert page.request["method"] == "POST"
    assert page.request["path"] == f"/v21/customers/{CUSTOMER}/googleAds:searchStream"
    assert "BETWEEN '2026-11-07' AND '2026-11-20'" in page.request["params"]["query"]
    assert parse_page(page.body) == page.records


def test_records_flatten_every_batch_of_the_stream(sandbox):
    sandbox.platform_api("google_ads").batch_size = 5
    page = fetch(make_client(sandbox), END - timedelta(days=6), END)
    batches = json.loads(page.body)
    assert [len(b["results"]) for b in batches] == [5, 5, 5, 5, 1]
    assert len(page.records) == 21
    assert page.records == [r for b in batches for r in b["results"]]


def test_an_empty_window_gives_no_records(sandbox):
    page = fetch(make_client(sandbox), END + timedelta(days=3), END + timedelta(days=4))
    assert page.records == []


def test_int64_strings_doubles_numbers_and_omitted_zero_fields():
    account = Account(
        platform="google_ads",
        account_id="5550001111",
        workspace_id="test_ws",
        currency="USD",
        timezone="UTC",
        campaigns=(
            Campaign("30000000001", "Display - Quiet", 200.0, 5.0, 0.01, 0.05, 50.0),
            Campaign("30000000002", "Search - Busy", 400.0, 30.0, 0.05, 0.06, 70.0),
        ),
    )
    quiet_day = date(2026, 1, 10)
    world = World(
        [account],
        anomalies=[Anomaly("no_clicks", "google_ads", "5550001111", "30000000001", quiet_day)],
    )
    with SandboxServer(world, today=quiet_day + timedelta(days=10)) as sandbox:
        page = fetch(
            make_client(sandbox),
            quiet_day - timedelta(days=1),
            quiet_day,
            customer="5550001111",
        )
    rows = {(r["campaign"]["id"], r["segments"]["date"]): r for r in page.records}
    quiet = rows[("30000000001", quiet_day.isoformat())]["metrics"]
    assert "clicks" not in quiet and "conversions" not in quiet and "conversionsValue" not in quiet
    assert isinstance(quiet["costMicros"], str) and isinstance(quiet["impressions"], str)
    busy = rows[("30000000002", quiet_day.isoformat())]["metrics"]
    assert isinstance(busy["clicks"], str) and isinstance(busy["conversions"], float)
    assert b'"clicks"' in page.body  # present where non-zero, absent where zero


def test_spend_spike_is_in_the_extract(sandbox):
    page = fetch(make_client(sandbox), END - timedelta(days=7), END)

    def roas(day):
        row = next(r for r in page.records if r["campaign"]["id"] == "20000000012" and r["segments"]["date"] == day.isoformat())
        return row["metrics"]["conversionsValue"] / (int(row["metrics"]["costMicros"]) / 1e6)

    assert roas(END) < 0.3 * roas(END - timedelta(days=7))


def test_restatement_after_the_clock_moves(sandbox, world):
    client = make_client(sandbox)
    fresh = fetch(client, END, END).records
    sandbox.set_today(END + timedelta(days=3))
    final = [r for r in fetch(client, END, END).records]
    assert sum(r["metrics"]["conversions"] for r in final) > sum(r["metrics"]["conversions"] for r in fresh)
    assert [r["metrics"]["costMicros"] for r in final] == [r["metrics"]["costMicros"] for r in fresh]
    expected = world.truth_rows("google_ads", CUSTOMER, END, END, as_of=END + timedelta(days=3))
    assert [r["metrics"]["conversions"] for r in final] == [e["conversions"] for e in expected]


def test_token_is_fetched_once_and_refreshed_once_on_401(sandbox):
    client = make_client(sandbox)
    fetch(client, END, END)
    fetch(client, END, END)
    assert sandbox.stats()["google_ads"]["endpoints"] == {"token": 1, "searchStream": 2}
    sandbox.expire_tokens()
    page = fetch(client, END, END)
    assert len(page.records) == 3
    stats = sandbox.stats()["google_ads"]
    assert stats["endpoints"] == {"token": 2, "searchStream": 4}
    assert stats["status"]["401"] == 1
    assert client.auth.refresh_count == 2


def test_unauthenticated_after_a_refresh_is_raised(sandbox):
    sandbox.add_fault("auth_expired", platform="google_ads", count=None)
    client = make_client(sandbox)
    with pytest.raises(AuthExpiredError, match="still rejected after a token refresh"):
        fetch(client, END, END)
    assert client.auth.refresh_count == 2  # the first token, then exactly one refresh


def test_revoked_refresh_token_needs_reauthorisation_without_leaking_secrets(sandbox):
    client = make_client(sandbox, refresh_token="1//revoked-refresh-token-value")
    with pytest.raises(ReauthRequiredError) as info:
        fetch(client, END, END)
    assert "invalid_grant" in str(info.value)
    secrets = [
        sandbox.credentials["google_ads"]["client_secret"],
        "1//revoked-refresh-token-value",
    ]
    for secret in secrets:
        assert secret not in str(info.value) and secret not in repr(info.value)


def test_bad_developer_token_is_permanent(sandbox):
    with pytest.raises(PermanentError) as info:
        fetch(make_client(sandbox, developer_token="not-approved-token"), END, END)
    assert "DEVELOPER_TOKEN_NOT_APPROVED" in str(info.value)
    assert "not-approved-token" not in str(info.value)
    assert sandbox.stats()["google_ads"]["endpoints"]["searchStream"] == 1  # not retried


def test_unknown_customer_is_permanent(sandbox):
    with pytest.raises(PermanentError, match="USER_PERMISSION_DENIED"):
        fetch(make_client(sandbox), END, END, customer="9999999999")


def test_login_customer_id_is_sent_as_digits(sandbox):
    client = make_client(sandbox, login_customer_id="123-456-7890")
    assert client.login_customer_id == "1234567890"
    page = fetch(client, END, END)
    assert page.request["params"]["login_customer_id"] == "1234567890"
    assert len(fetch(client, END, END, customer="234-567-8901").records) == 3


def test_quota_exhaustion_carries_the_retry_delay(sandbox):
    sandbox.add_fault(
        "rate_limited",
        platform="google_ads",
        account_id=CUSTOMER,
        count=None,
        retry_after=8962,
    )
    sleeps = Sleeps()
    with pytest.raises(RateLimitedError) as info:
        fetch(make_client(sandbox, sleeps=sleeps), END, END)
    assert info.value.retry_after == 8962 and sleeps == []
    assert info.value.code == "RESOURCE_EXHAUSTED"


def test_short_quota_waits_are_slept_then_retried(sandbox):
    sandbox.add_fault("rate_limited", platform="google_ads", count=1, retry_after=3)
    sleeps = Sleeps()
    assert len(fetch(make_client(sandbox, sleeps=sleeps), END, END).records) == 3
    assert sleeps == [3.0]


def test_http_500_is_retried_then_transient(sandbox):
    sandbox.add_fault("http_500", platform="google_ads", count=None)
    sleeps = Sleeps()
    with pytest.raises(TransientError, match="INTERNAL"):
        fetch(make_client(sandbox, sleeps=sleeps), END, END)
    assert len(sleeps) == 2 and sandbox.stats()["google_ads"]["status"]["500"] == 3


def test_garbage_is_a_bad_response_naming_the_customer(sandbox):
    sandbox.add_fault("garbage", platform="google_ads", count=None)
    with pytest.raises(BadResponseError) as info:
        fetch(make_client(sandbox), END, END)
    assert str(info.value).startswith(f"google_ads searchStream for customer {CUSTOMER}: body is not JSON (starts with '<html>")


class FakeResponse:
    def __init__(self, status: int, payload, headers: dict | None = None):
        self.status_code = status
        self.content = json.dumps(payload).encode()
        self.headers = requests.structures.CaseInsensitiveDict(headers or {})

    def json(self):
        return json.loads(self.content)


def _error(code: int, status: str, error_code: dict | None = None, details: dict | None = None) -> dict:
    error = {"code": code, "message": "m", "status": status}
    if error_code:
        item = {"errorCode": error_code, "message": "detail"}
        if details:
            item["details"] = details
        error["details"] = [
            {
                "@type": "type.googleapis.com/google.ads.googleads.v21.errors.GoogleAdsFailure",
                "errors": [item],
            }
        ]
    return {"error": error}


@pytest.mark.parametrize("wrapped", [False, True])
@pytest.mark.parametrize(
    ("status", "payload", "expected"),
    [
        (401, _error(401, "UNAUTHENTICATED"), AuthExpiredError),
        (
            403,
            _error(
                403,
                "PERMISSION_DENIED",
                {"authorizationError": "USER_PERMISSION_DENIED"},
            ),
            PermanentError,
        ),
        (
            400,
            _error(400, "INVALID_ARGUMENT", {"queryError": "UNRECOGNIZED_FIELD"}),
            PermanentError,
        ),
        (500, _error(500, "INTERNAL"), TransientError),
        (503, _error(503, "UNAVAILABLE"), TransientError),
        (429, _error(429, "RESOURCE_TEMPORARILY_EXHAUSTED"), RateLimitedError),
    ],
)
def test_google_errors_plain_or_wrapped(status, payload, expected, wrapped):
    error = classify(FakeResponse(status, [payload] if wrapped else payload))
    assert type(error) is expected


def test_retry_delay_from_quota_error_details():
    payload = _error(
        429,
        "RESOURCE_EXHAUSTED",
        {"quotaError": "RESOURCE_EXHAUSTED"},
        {"quotaErrorDetails": {"rateScope": "DEVELOPER", "retryDelay": "8962s"}},
    )
    error = classify(FakeResponse(429, [payload]))
    assert isinstance(error, RateLimitedError) and error.retry_after == 8962
    assert "RESOURCE_EXHAUSTED" in str(error)


def test_an_error_at_the_end_of_a_200_stream_is_an_error():
    stream = [
        {"results": [], "fieldMask": "campaign.id", "requestId": "r"},
        _error(500, "INTERNAL"),
    ]
    assert isinstance(classify(FakeResponse(200, stream)), TransientError)
    assert classify(FakeResponse(200, [{"results": [], "fieldMask": "campaign.id"}])) is None


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html></html>", "body is not JSON"),
        (b'{"fieldMask": "x"}', "expected a JSON array of batches, got dict"),
        (b'[{"results": {}}]', "batch 0: 'results' is a dict"),
        (
            b'[{"results": [{"campaign": {"id": "1"}}]}]',
            "batch 0 results[0] has no segments.date",
        ),
        (
            b'[{"results": [{"segments": {"date": "2026-11-20"}}]}]',
            "batch 0 results[0] has no campaign.id",
        ),
        (
            b'[{"results": [{"campaign": {"id": "1"}, "segments": {"date": "x"}}]}]',
            "segments.date is not a date",
        ),
    ],
)
def test_parse_page_names_what_is_wrong(body, problem):
    with pytest.raises(BadResponseError) as info:
        parse_page(body)
    assert problem in str(info.value)


def test_parse_page_accepts_batches_without_results():
    body = b'[{"fieldMask": "campaign.id", "requestId": "a"}]'
    assert parse_page(body) == []


def test_registry_entry():
    spec = PLATFORMS["google_ads"]
    assert spec.report == "campaign_performance"
    assert spec.parse_page is iter_page and spec.report_date is report_date


def test_iter_page_yields_the_rows_of_parse_page_batch_by_batch():
    rows = [{"campaign": {"id": str(n)}, "segments": {"date": "2026-01-02"}, "metrics": {}} for n in range(5)]
    body = json.dumps([{"results": rows[:3]}, {"requestId": "x"}, {"results": rows[3:]}]).encode()
    lazy = iter_page(body)
    assert next(lazy) == rows[0]  # a row before the last batch is decoded
    assert [rows[0], *lazy] == rows == parse_page(body)


def test_iter_page_refuses_a_malformed_body_before_any_row():
    body = b'[{"results": [{"campaign": {"id": "1"}, "segments": {"date": "2026-01-02"}}]}, {"results": [tru]}]'
    with pytest.raises(BadResponseError, match="not JSON"):
        next(iter_page(body))


def test_iter_page_names_a_bad_row_in_a_later_batch():
    good = {"campaign": {"id": "1"}, "segments": {"date": "2026-01-02"}}
    body = json.dumps([{"results": [good]}, {"results": [good, {"campaign": {"id": "2"}}]}]).encode()
    with pytest.raises(BadResponseError, match=r"batch 1 results\[1\] has no segments.date"):
        list(iter_page(body))


def test_default_token_url_is_googles():
    client = GoogleAdsClient("https://googleads.googleapis.com", "d", "c", "s", "r")
    assert client.token_url == "https://oauth2.googleapis.com/token"
