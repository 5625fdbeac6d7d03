"""The Meta Insights adapter against the sandbox server (real HTTP, real wire format)."""

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
    BadResponseError,
    PermanentError,
    RateLimitedError,
    ReauthRequiredError,
    TransientError,
)
from adapters.http import HttpClient, RetryPolicy
from adapters.meta import MetaInsightsClient, classify, parse_page, report_date
from sandbox.server import SandboxServer
from sandbox.world import World

REPO = Path(__file__).resolve().parents[1]
END = DEMO_END  # the last day of the shared `world` fixture
ACCOUNT = "1000000001"


def make_client(sandbox, token=None, page_limit=500, sleeps=None, retry=None) -> MetaInsightsClient:
    http = HttpClient(
        "meta",
        sleep=sleeps if sleeps is not None else Sleeps(),
        rng=random.Random(3),
        retry=retry or RetryPolicy(max_attempts=3, backoff_base=0.5, backoff_max=2.0, max_total_wait=30.0),
    )
    return MetaInsightsClient(
        sandbox.meta_url,
        token or sandbox.credentials["meta"]["access_token"],
        http=http,
        page_limit=page_limit,
    )


def test_paging_returns_every_campaign_day_exactly_once(sandbox, world):
    since = END - timedelta(days=9)
    pages = list(make_client(sandbox, page_limit=7).fetch_insights(ACCOUNT, since, END))
    assert len(pages) == 5  # 30 rows, 7 per page
    keys = [(r["campaign_id"], r["date_start"]) for p in pages for r in p.records]
    truth = world.truth_rows("meta", ACCOUNT, since, END)
    assert len(keys) == len(set(keys)) == len(truth) == 30
    by_key = {(r["campaign_id"], r["date_start"]): r for p in pages for r in p.records}
    for expected in truth:
        row = by_key[(expected["campaign_id"], expected["date"].isoformat())]
        assert row["spend"] == f"{expected['spend']:.2f}"
        assert row["clicks"] == str(expected["clicks"])
        assert report_date(row) == expected["date"]


def test_pages_keep_the_body_untouched_and_describe_the_request_without_the_token(
    sandbox,
):
    token = sandbox.credentials["meta"]["access_token"]
    pages = list(make_client(sandbox, page_limit=4).fetch_insights(ACCOUNT, END - timedelta(days=2), END))
    assert len(pages) == 3
    for page in pages:
        assert parse_page(page.body) == page.records
        assert json.loads(page.body)["data"] == page.records
        assert token not in json.dumps(page.request)
        assert page.request["method"] == "GET"
        assert page.request["path"] == f"/v21.0/act_{ACCOUNT}/insights"
        assert page.request["params"]["level"] == "campaign"
    assert "after" in pages[1].request["params"]
    # Meta's own next links carry the token; the client strips it and sends a header instead.
    assert b"access_token=" in pages[0].body


def test_numbers_are_strings_and_purchases_appear_under_three_types(sandbox):
    page = next(make_client(sandbox).fetch_insights(ACCOUNT, END - timedelta(days=1), END))
    record = page.records[0]
    for key in ("spend", "impressions", "clicks", "reach", "campaign_id"):
        assert isinstance(record[key], str)
    purchase_types = {
        "purchase",
        "omni_purchase",
        "offsite_conversion.fb_pixel_purchase",
    }
    actions = [a for a in record["actions"] if a["action_type"] in purchase_types]
    values = [a for a in record["action_values"] if a["action_type"] in purchase_types]
    assert len(actions) == len(values) == 3
    assert len({a["value"] for a in actions}) == 1 and len({a["value"] for a in values}) == 1
    for action_type in purchase_types:
        assert f'"action_type":"{action_type}"'.encode() in page.body
    assert record["account_currency"] == "USD"


def test_conversions_are_asked_for_under_explicit_attribution_windows(sandbox):
    from adapters.meta import ATTRIBUTION_WINDOWS

    assert ATTRIBUTION_WINDOWS == ("7d_click", "1d_view")
    page = next(make_client(sandbox).fetch_insights(ACCOUNT, END - timedelta(days=1), END))
    assert json.loads(page.request["params"]["action_attribution_windows"]) == ["7d_click", "1d_view"]
    # Meta then gives each action under each window; `value` stays their total, which staging reads.
    for entry in (e for r in page.records for e in (*r.get("actions", []), *r.get("action_values", []))):
        assert set(ATTRIBUTION_WINDOWS) <= set(entry), entry
        assert float(entry["7d_click"]) + float(entry["1d_view"]) == pytest.approx(float(entry["value"]), abs=0.011), entry


def test_an_attribution_window_meta_does_not_have_is_refused(sandbox):
    r = requests.get(
        f"{sandbox.meta_url}/v21.0/act_{ACCOUNT}/insights",
        params={"level": "campaign", "action_attribution_windows": '["3d_click"]'},
        headers={"Authorization": f"Bearer {sandbox.credentials['meta']['access_token']}"},
        timeout=10,
    )
    assert r.status_code == 400
    assert r.json()["error"]["code"] == 100 and "action_attribution_windows" in r.json()["error"]["message"]


def test_restatement_shows_after_the_sandbox_clock_moves(sandbox, world):
    client = make_client(sandbox)
    fresh = [r for p in client.fetch_insights(ACCOUNT, END, END) for r in p.records]
    requests.post(
        f"{sandbox.url}/_sandbox/clock",
        json={"today": (END + timedelta(days=4)).isoformat()},
        timeout=10,
    )
    final = [r for p in client.fetch_insights(ACCOUNT, END, END + timedelta(days=10)) for r in p.records]
    assert {r["date_start"] for r in final} == {(END + timedelta(days=n)).isoformat() for n in range(4)}

    def purchases(rows):
        return {
            r["campaign_id"]: int(next(a["value"] for a in r["actions"] if a["action_type"] == "purchase"))
            for r in rows
            if r["date_start"] == END.isoformat()
        }

    assert all(purchases(final)[c] >= purchases(fresh)[c] for c in purchases(fresh))
    assert sum(purchases(final).values()) > sum(purchases(fresh).values())
    expected = world.truth_rows("meta", ACCOUNT, END, END, as_of=END + timedelta(days=4))
    assert purchases(final) == {r["campaign_id"]: r["conversions"] for r in expected}
    assert {r["spend"] for r in fresh} == {r["spend"] for r in final if r["date_start"] == END.isoformat()}


def test_the_injected_ctr_collapse_is_in_the_extract(sandbox):
    rows = [r for p in make_client(sandbox).fetch_insights(ACCOUNT, END - timedelta(days=7), END) for r in p.records]

    def ctr(day):
        row = next(r for r in rows if r["campaign_id"] == "120210000000000001" and r["date_start"] == day.isoformat())
        return int(row["clicks"]) / int(row["impressions"])

    assert ctr(END) < 0.4 * ctr(END - timedelta(days=7))


def test_garbage_body_is_a_bad_response_with_page_and_account(sandbox):
    sandbox.add_fault("garbage", platform="meta", account_id=ACCOUNT, count=None, skip=1)
    client = make_client(sandbox, page_limit=3)
    pages = client.fetch_insights(ACCOUNT, END - timedelta(days=2), END)
    first = next(pages)
    assert len(first.records) == 3
    with pytest.raises(BadResponseError) as info:
        next(pages)
    message = str(info.value)
    assert message.startswith(f"meta insights page 2 for act_{ACCOUNT}: body is not JSON (starts with '<html>")
    assert info.value.platform == "meta" and info.value.account_id == ACCOUNT


def test_truncated_json_is_a_bad_response(sandbox):
    sandbox.add_fault("garbage", platform="meta", count=None, variant="truncated")
    with pytest.raises(BadResponseError, match="body is not JSON"):
        list(make_client(sandbox).fetch_insights(ACCOUNT, END, END))


def test_http_500_is_retried_then_raised_as_transient(sandbox):
    sandbox.add_fault("http_500", platform="meta", account_id=ACCOUNT, count=None)
    sleeps = Sleeps()
    with pytest.raises(TransientError) as info:
        list(make_client(sandbox, sleeps=sleeps).fetch_insights(ACCOUNT, END, END))
    assert sandbox.stats()["meta"]["status"] == {"500": 3}
    assert len(sleeps) == 2
    assert "code 2" in str(info.value) and "gave up after 3 attempts" in str(info.value)


def test_http_500_then_recovery(sandbox):
    sandbox.add_fault("http_500", platform="meta", count=2)
    sleeps = Sleeps()
    pages = list(make_client(sandbox, sleeps=sleeps).fetch_insights(ACCOUNT, END, END))
    assert len(pages[0].records) == 3 and len(sleeps) == 2


def test_throttling_uses_the_usage_header_estimate(sandbox):
    sandbox.add_fault("rate_limited", platform="meta", count=1, retry_after=120)
    sleeps = Sleeps()
    generous = RetryPolicy(max_attempts=3, max_total_wait=600)
    pages = list(make_client(sandbox, sleeps=sleeps, retry=generous).fetch_insights(ACCOUNT, END, END))
    assert pages and sleeps == [120.0]  # estimated_time_to_regain_access: 2 minutes

    sandbox.add_fault("rate_limited", platform="meta", count=1, retry_after=1800)
    with pytest.raises(RateLimitedError) as info:
        list(make_client(sandbox).fetch_insights(ACCOUNT, END, END))
    assert info.value.retry_after == 1800 and info.value.code == 80000


def test_expired_token_needs_reauthorisation_and_is_never_printed(sandbox):
    token = "EAABwrongwrongwrong123456"
    with pytest.raises(ReauthRequiredError) as info:
        list(make_client(sandbox, token=token).fetch_insights(ACCOUNT, END, END))
    assert "190/463" in str(info.value)
    assert token not in str(info.value) and token not in repr(info.value)
    assert sandbox.stats()["meta"]["requests"] == 1  # not retried

    real = sandbox.credentials["meta"]["access_token"]
    sandbox.add_fault("auth_expired", platform="meta", count=1, skip=1)
    pages = make_client(sandbox, page_limit=2).fetch_insights(ACCOUNT, END - timedelta(days=1), END)
    next(pages)
    with pytest.raises(ReauthRequiredError) as info:
        next(pages)
    assert real not in str(info.value) and "page 2" in str(info.value)


def test_unknown_account_is_permanent(sandbox):
    with pytest.raises(PermanentError, match="code 100"):
        list(make_client(sandbox).fetch_insights("999", END, END))
    with pytest.raises(PermanentError, match="digits"):
        list(make_client(sandbox).fetch_insights("not-an-id", END, END))


def test_act_prefix_is_accepted(sandbox):
    assert len(next(make_client(sandbox).fetch_insights(f"act_{ACCOUNT}", END, END)).records) == 3


class FakeResponse:
    def __init__(self, status: int, payload: dict, headers: dict | None = None):
        self.status_code = status
        self.content = json.dumps(payload).encode()
        self.headers = requests.structures.CaseInsensitiveDict(headers or {})

    def json(self):
        return json.loads(self.content)


@pytest.mark.parametrize(
    ("status", "code", "expected"),
    [
        (400, 4, RateLimitedError),
        (400, 17, RateLimitedError),
        (400, 32, RateLimitedError),
        (403, 613, RateLimitedError),
        (400, 80000, RateLimitedError),
        (400, 80014, RateLimitedError),
        (400, 190, ReauthRequiredError),
        (500, 1, TransientError),
        (400, 2, TransientError),
        (503, 99, TransientError),
        (400, 100, PermanentError),
        (403, 200, PermanentError),
    ],
)
def test_meta_error_codes(status, code, expected):
    error = classify(FakeResponse(status, {"error": {"message": "m", "type": "OAuthException", "code": code}}))
    assert type(error) is expected


def test_meta_usage_header_minutes_become_seconds():
    usage = {
        "123": [
            {
                "type": "ads_insights",
                "call_count": 100,
                "estimated_time_to_regain_access": 7,
            }
        ]
    }
    error = classify(
        FakeResponse(
            400,
            {"error": {"code": 80004, "message": "too many"}},
            {"X-Business-Use-Case-Usage": json.dumps(usage)},
        )
    )
    assert isinstance(error, RateLimitedError) and error.retry_after == 420
    assert classify(FakeResponse(200, {"data": []})) is None


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>oops</html>", "body is not JSON (starts with '<html>oops</html>')"),
        (b"[]", "expected a JSON object, got list"),
        (b'{"paging": {}}', "no 'data' list"),
        (b'{"data": {"a": 1}}', "'data' is a dict"),
        (b'{"data": [{"campaign_id": "1"}]}', "data[0] has no string 'date_start'"),
        (
            b'{"data": [{"campaign_id": "1", "date_start": "yesterday"}]}',
            "data[0].date_start is not a date",
        ),
        (b'{"error": {"message": "boom"}}', "body is an error object"),
    ],
)
def test_parse_page_names_what_is_wrong(body, problem):
    with pytest.raises(BadResponseError) as info:
        parse_page(body)
    assert problem in str(info.value)


def test_registry_entry():
    spec = PLATFORMS["meta"]
    assert spec.report == "insights" and spec.parse_page is parse_page and spec.report_date is report_date
    day = spec.report_date
    assert day({"date_start": "2026-11-20"}) == END


def test_pages_written_by_hand_keep_no_access_token(sandbox, tmp_path, capsys):
    """``python -m adapters meta`` (tests/test_adapters_cli.py) writes each page's request: Meta's next-page links
    carry the token, and the requests written must not."""
    from adapters.cli import run_extract
    from adapters.meta import MetaInsightsClient

    token = sandbox.credentials["meta"]["access_token"]
    client = MetaInsightsClient(sandbox.meta_url, token, page_limit=4)
    assert run_extract(lambda: client.fetch_insights(ACCOUNT, END - timedelta(days=2), END), report_date, tmp_path) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["pages"] == 3 and summary["records"] == 9
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "page-00001.json",
        "page-00002.json",
        "page-00003.json",
        "request.json",
    ]
    assert token not in (tmp_path / "request.json").read_text()


def test_stored_pages_never_contain_the_access_token(tmp_path):
    """Meta echoes the token in paging.next; the page body kept for the lake must not."""

    from adapters.meta import MetaInsightsClient

    world = World.demo(date(2026, 11, 20))
    with SandboxServer(world) as sandbox:
        token = sandbox.credentials["meta"]["access_token"]
        client = MetaInsightsClient(sandbox.meta_url, token, page_limit=25)
        pages = list(client.fetch_insights("1000000001", date(2026, 10, 1), date(2026, 11, 20)))
    assert len(pages) > 1  # several pages, so paging.next links were present
    assert sum(len(p.records) for p in pages) == 51 * 3
    for page in pages:
        assert token.encode() not in page.body
    assert b"paging" in pages[0].body and b"next" in pages[0].body
