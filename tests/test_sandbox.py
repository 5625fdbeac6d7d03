"""The sandbox: a deterministic world and servers that speak the platforms' wire formats."""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
import requests
from sandbox_clients import DEMO_END

from sandbox.server import SandboxServer
from sandbox.world import Account, Anomaly, Campaign, World, restatement_fraction

REPO = Path(__file__).resolve().parents[1]
END = DEMO_END  # the last day of the shared `world` fixture
TODAY = END + timedelta(days=1)
GAQL = (
    "SELECT campaign.id, campaign.name, segments.date, metrics.cost_micros, "
    "metrics.impressions, metrics.clicks, metrics.conversions, metrics.conversions_value "
    "FROM campaign WHERE segments.date BETWEEN '{since}' AND '{until}'"
)


def meta_get(sandbox, account="1000000001", since=END, until=END, token=None, **params):
    query = {
        "access_token": token or sandbox.credentials["meta"]["access_token"],
        "level": "campaign",
        "time_increment": "1",
        "time_range": json.dumps({"since": since.isoformat(), "until": until.isoformat()}),
        **params,
    }
    return requests.get(f"{sandbox.meta_url}/v21.0/act_{account}/insights", params=query, timeout=10)


def google_token(sandbox) -> str:
    g = sandbox.credentials["google_ads"]
    response = requests.post(
        sandbox.google_token_url,
        data={
            "grant_type": "refresh_token",
            "client_id": g["client_id"],
            "client_secret": g["client_secret"],
            "refresh_token": g["refresh_token"],
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    payload = response.json()
    assert payload["expires_in"] == 3599 and payload["token_type"] == "Bearer"
    return payload["access_token"]


def google_post(
    sandbox,
    customer="1234567890",
    since=END,
    until=END,
    token=None,
    query=None,
    **headers,
):
    return requests.post(
        f"{sandbox.google_ads_url}/v21/customers/{customer}/googleAds:searchStream",
        json={"query": query or GAQL.format(since=since, until=until)},
        headers={
            "Authorization": f"Bearer {token or google_token(sandbox)}",
            "developer-token": sandbox.credentials["google_ads"]["developer_token"],
            **headers,
        },
        timeout=10,
    )


# -- the world ---------------------------------------------------------------


def test_demo_world_has_the_pinned_accounts_and_campaigns(world):
    accounts = {(a.workspace_id, a.platform, a.account_id, a.currency, a.timezone) for a in world.accounts}
    assert accounts == {
        ("northwind_us", "meta", "1000000001", "USD", "America/New_York"),
        ("northwind_us", "google_ads", "1234567890", "USD", "America/New_York"),
        ("lumen_eu", "meta", "2000000002", "EUR", "Europe/Berlin"),
        ("lumen_eu", "google_ads", "2345678901", "EUR", "Europe/Berlin"),
        ("northwind_us", "tiktok", "7100000000000001", "USD", "America/New_York"),
        ("northwind_us", "amazon_ads", "3100000000000001", "USD", "America/Los_Angeles"),
        ("lumen_eu", "linkedin", "508000001", "EUR", "Europe/Berlin"),
        ("harbor_uk", "snapchat", "8f2b7a4e-5c1d-4e3a-9b6f-2d8c0e1a7b3c", "GBP", "Europe/London"),
        ("harbor_uk", "file_drop", "harbor_pinterest", "GBP", "Europe/London"),
        ("souq_sa", "snapchat", "5c0e7d1a-9b2f-4a6e-8d3c-1f4b2a6e9c70", "SAR", "Asia/Riyadh"),
        ("souq_sa", "tiktok", "7100000000000002", "SAR", "Asia/Riyadh"),
    }
    for account in world.accounts:
        if account.platform not in ("meta", "google_ads"):
            assert len(account.campaigns) == 2
            continue
        assert len(account.campaigns) == 3
        for campaign in account.campaigns:
            assert campaign.campaign_id.isdigit()
            assert len(campaign.campaign_id) == (18 if account.platform == "meta" else 11)
    assert world.start_date == END - timedelta(days=119)


def test_same_seed_same_world_other_seed_other_numbers():
    a, b, c = World.demo(END), World.demo(END), World.demo(END, seed=7)
    for account in a.accounts:
        rows_a = a.truth_rows(account.platform, account.account_id, END - timedelta(days=30), END)
        rows_b = b.truth_rows(account.platform, account.account_id, END - timedelta(days=30), END)
        rows_c = c.truth_rows(account.platform, account.account_id, END - timedelta(days=30), END)
        assert rows_a == rows_b
        assert rows_a != rows_c


def test_any_day_is_computed_independently_of_order(world):
    day = END - timedelta(days=40)
    later_first = World.demo(END)
    later_first.truth("meta", "1000000001", "120210000000000002", END)
    assert later_first.truth("meta", "1000000001", "120210000000000002", day) == world.truth(
        "meta", "1000000001", "120210000000000002", day
    )


def _normal_rows(world: World):
    anomalous = {(a.platform, a.account_id, a.campaign_id, a.day) for a in world.anomalies}
    for account in world.accounts:
        rows = world.truth_rows(account.platform, account.account_id, world.start_date, END)
        for campaign in account.campaigns:
            series = [r for r in rows if r["campaign_id"] == campaign.campaign_id]
            yield account, campaign, series, anomalous


def test_campaigns_are_big_enough_to_score(world):
    for account, campaign, series, anomalous in _normal_rows(world):
        for row in series:
            if (
                account.platform,
                account.account_id,
                campaign.campaign_id,
                row["date"],
            ) in anomalous:
                continue
            assert 150 <= row["spend"] <= 2000, (campaign.name, row)
            assert 20 <= row["conversions"] <= 150, (campaign.name, row)
            assert row["impressions"] >= 10_000, (campaign.name, row)
            assert 0 < row["clicks"] < row["impressions"]
            if account.platform == "meta":
                assert isinstance(row["conversions"], int)
                assert 0 < row["reach"] <= row["impressions"]


def _kpis(row: dict) -> dict[str, float]:
    return {
        "ctr": row["clicks"] / row["impressions"],
        "cvr": row["conversions"] / row["clicks"],
        "cpa": row["spend"] / row["conversions"],
        "roas": row["conversion_value"] / row["spend"],
        "spend": row["spend"],
    }


def _robust_z(value: float, history: list[float]) -> float:
    median = statistics.median(history)
    mad = statistics.median(abs(h - median) for h in history)
    return (value - median) / (1.4826 * mad)


def test_ordinary_days_stay_near_their_trailing_median_and_anomalies_stand_out(world):
    """Scored as the marts do: robust z against the 14-28 days before, as seen the day after END."""
    worst_settled, worst_fresh = 0.0, 0.0
    anomaly_z = {}
    for account, campaign, series, anomalous in _normal_rows(world):
        for i in range(14, len(series)):
            row = series[i]
            today = _kpis(row)
            history = [_kpis(r) for r in series[max(0, i - 28) : i]]
            z = {m: _robust_z(today[m], [h[m] for h in history]) for m in today}
            worst = max(abs(v) for v in z.values())
            if (
                account.platform,
                account.account_id,
                campaign.campaign_id,
                row["date"],
            ) in anomalous:
                anomaly_z[campaign.campaign_id] = z
            elif row["date"] == END:  # fresh: conversions still at 92% (restatement)
                worst_fresh = max(worst_fresh, worst)
            else:
                worst_settled = max(worst_settled, worst)
    assert worst_settled < 2.5, worst_settled
    assert worst_fresh < 3.5, worst_fresh
    collapse = anomaly_z["120210000000000001"]  # northwind Meta, first campaign: CTR collapse
    assert collapse["ctr"] < -5
    spike = anomaly_z["20000000012"]  # lumen Google Ads, second campaign: spend spike
    assert spike["spend"] > 5 and spike["roas"] < -5


def test_anomalies_are_data_on_the_end_date(world):
    assert world.anomalies == [
        Anomaly("ctr_collapse", "meta", "1000000001", "120210000000000001", END),
        Anomaly("spend_spike", "google_ads", "2345678901", "20000000012", END),
    ]
    as_of = END + timedelta(days=5)
    normal = world.truth("meta", "1000000001", "120210000000000001", END - timedelta(days=7), as_of)
    collapsed = world.truth("meta", "1000000001", "120210000000000001", END, as_of)
    assert collapsed["clicks"] / collapsed["impressions"] < 0.35 * normal["clicks"] / normal["impressions"]
    assert 0.7 < collapsed["spend"] / normal["spend"] < 1.3
    spiked = world.truth("google_ads", "2345678901", "20000000012", END, as_of)
    usual = world.truth("google_ads", "2345678901", "20000000012", END - timedelta(days=7), as_of)
    assert spiked["spend"] > 2.2 * usual["spend"]
    assert spiked["conversion_value"] / spiked["spend"] < 0.3 * usual["conversion_value"] / usual["spend"]


def test_restatement_grows_recent_conversions_and_leaves_spend_alone(world):
    day = END
    fresh = world.truth("google_ads", "1234567890", "20000000002", day, as_of=day + timedelta(days=1))
    next_day = world.truth("google_ads", "1234567890", "20000000002", day, as_of=day + timedelta(days=2))
    final = world.truth("google_ads", "1234567890", "20000000002", day, as_of=day + timedelta(days=3))
    later = world.truth("google_ads", "1234567890", "20000000002", day, as_of=day + timedelta(days=30))
    assert fresh["conversions"] < next_day["conversions"] < final["conversions"] == later["conversions"]
    assert fresh["conversion_value"] == pytest.approx(0.92 * final["conversion_value"], abs=0.02)
    assert next_day["conversion_value"] == pytest.approx(0.97 * final["conversion_value"], abs=0.02)
    for metric in ("spend", "impressions", "clicks"):
        assert fresh[metric] == next_day[metric] == final[metric]
    assert [restatement_fraction(day, day + timedelta(days=n)) for n in (1, 2, 3, 10)] == [0.92, 0.97, 1.0, 1.0]


def test_days_on_or_after_today_and_before_the_start_do_not_exist(world):
    campaign = "120210000000000001"
    assert world.truth("meta", "1000000001", campaign, END, as_of=END) is None
    assert world.truth("meta", "1000000001", campaign, END + timedelta(days=1)) is None
    assert world.truth("meta", "1000000001", campaign, world.start_date - timedelta(days=1)) is None
    assert world.truth("meta", "1000000001", campaign, world.start_date) is not None
    rows = world.truth_rows("meta", "1000000001", END - timedelta(days=2), END + timedelta(days=5))
    assert sorted({r["date"] for r in rows}) == [
        END - timedelta(days=2),
        END - timedelta(days=1),
        END,
    ]
    assert rows[0]["campaign_name"] == "Prospecting - Broad" and rows[0]["currency"] == "USD"


# -- Meta wire format ----------------------------------------------------------


def test_meta_rows_are_strings_with_duplicate_purchase_types(sandbox, world):
    response = meta_get(sandbox, since=END - timedelta(days=1), until=END)
    assert response.status_code == 200
    payload = response.json()
    assert "paging" in payload and "next" not in payload["paging"]
    rows = payload["data"]
    assert len(rows) == 6
    truth = world.truth_rows("meta", "1000000001", END - timedelta(days=1), END)
    for row, expected in zip(rows, truth, strict=True):
        for key in ("campaign_id", "spend", "impressions", "clicks", "reach"):
            assert isinstance(row[key], str), key
        assert row["campaign_id"] == expected["campaign_id"]
        assert row["spend"] == f"{expected['spend']:.2f}"
        assert row["impressions"] == str(expected["impressions"])
        assert row["account_currency"] == "USD"
        assert row["date_start"] == row["date_stop"] == expected["date"].isoformat()
        actions = {a["action_type"]: a["value"] for a in row["actions"]}
        values = {a["action_type"]: a["value"] for a in row["action_values"]}
        purchase_types = (
            "purchase",
            "omni_purchase",
            "offsite_conversion.fb_pixel_purchase",
        )
        assert {actions[t] for t in purchase_types} == {str(expected["conversions"])}
        assert {values[t] for t in purchase_types} == {f"{expected['conversion_value']:.2f}"}
        assert "link_click" in actions and "landing_page_view" in actions
        assert all(isinstance(a["value"], str) for a in row["actions"] + row["action_values"])


def test_meta_paging_uses_cursors_and_full_next_urls(sandbox):
    since = END - timedelta(days=3)
    response = meta_get(sandbox, since=since, until=END, limit="5")
    payload = response.json()
    seen = [(r["campaign_id"], r["date_start"]) for r in payload["data"]]
    pages = 1
    while "next" in payload["paging"]:
        next_url = payload["paging"]["next"]
        assert next_url.startswith(sandbox.meta_url + "/v21.0/act_1000000001/insights?")
        assert set(payload["paging"]["cursors"]) == {"before", "after"}
        payload = requests.get(next_url, timeout=10).json()
        seen += [(r["campaign_id"], r["date_start"]) for r in payload["data"]]
        pages += 1
    assert pages == 3
    assert len(seen) == len(set(seen)) == 12


def test_prepared_rows_are_served_without_computing_them_again(world, monkeypatch):
    since = END - timedelta(days=3)
    with SandboxServer(world, today=TODAY, page_cache=2) as srv:
        assert srv.prepare_pages("meta", "1000000001", since, END, ("campaign", "ad")) == len(
            world.truth_rows("meta", "1000000001", since, END, as_of=TODAY)
        ) + len(world.truth_rows("meta", "1000000001", since, END, as_of=TODAY, level="ad"))
        calls = []
        original = world.truth_rows
        monkeypatch.setattr(world, "truth_rows", lambda *a, **k: calls.append(a) or original(*a, **k))
        assert meta_get(srv, since=since, until=END, level="campaign").status_code == 200
        assert meta_get(srv, since=since, until=END, level="ad").status_code == 200
        assert calls == []  # both prepared queries were kept
        assert meta_get(srv, since=END, until=END).status_code == 200
        assert meta_get(srv, since=since, until=END, level="campaign").status_code == 200
        assert len(calls) == 2  # a third query pushed the oldest out of a cache of two


def test_meta_answers_only_the_requested_fields(sandbox):
    rows = meta_get(sandbox, fields="campaign_id,spend").json()["data"]
    assert set(rows[0]) == {"campaign_id", "spend", "date_start", "date_stop"}


def test_meta_token_by_header_and_errors(sandbox):
    response = requests.get(
        f"{sandbox.meta_url}/v21.0/act_1000000001/insights",
        params={"level": "campaign", "time_increment": "1"},
        headers={"Authorization": f"Bearer {sandbox.credentials['meta']['access_token']}"},
        timeout=10,
    )
    assert response.status_code == 200 and response.json()["data"]
    bad = meta_get(sandbox, token="not-the-token")
    assert bad.status_code == 400
    error = bad.json()["error"]
    assert (error["type"], error["code"], error["error_subcode"]) == (
        "OAuthException",
        190,
        463,
    )
    unknown = meta_get(sandbox, account="999")
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == 100


def test_clock_moves_restatement_and_availability(sandbox, world):
    before = meta_get(sandbox, since=END, until=END + timedelta(days=1)).json()["data"]
    assert {r["date_start"] for r in before} == {END.isoformat()}
    purchases = {r["campaign_id"]: r["actions"][-1]["value"] for r in before}
    response = requests.post(
        f"{sandbox.url}/_sandbox/clock",
        json={"today": (END + timedelta(days=3)).isoformat()},
    )
    assert response.json()["today"] == (END + timedelta(days=3)).isoformat()
    assert requests.get(f"{sandbox.url}/_sandbox/clock").json()["today"] == (END + timedelta(days=3)).isoformat()
    after = meta_get(sandbox, since=END, until=END + timedelta(days=1)).json()["data"]
    assert {r["date_start"] for r in after} == {
        END.isoformat(),
        (END + timedelta(days=1)).isoformat(),
    }
    restated = {r["campaign_id"]: r["actions"][-1]["value"] for r in after if r["date_start"] == END.isoformat()}
    final = world.truth_rows("meta", "1000000001", END, END, as_of=END + timedelta(days=3))
    assert restated == {r["campaign_id"]: str(r["conversions"]) for r in final}
    assert any(int(restated[c]) > int(purchases[c]) for c in purchases)
    assert requests.post(f"{sandbox.url}/_sandbox/clock", json={"today": "soon"}).status_code == 400


# -- Google Ads wire format ------------------------------------------------------


def test_google_search_stream_shape(sandbox, world):
    response = google_post(sandbox, since=END - timedelta(days=1), until=END)
    assert response.status_code == 200
    batches = response.json()
    assert isinstance(batches, list) and len(batches) == 1
    batch = batches[0]
    assert batch["fieldMask"] == (
        "campaign.id,campaign.name,segments.date,metrics.costMicros,metrics.impressions,"
        "metrics.clicks,metrics.conversions,metrics.conversionsValue"
    )
    assert batch["requestId"]
    truth = world.truth_rows("google_ads", "1234567890", END - timedelta(days=1), END)
    assert len(batch["results"]) == len(truth) == 6
    for row, expected in zip(batch["results"], truth, strict=True):
        assert row["campaign"] == {
            "resourceName": f"customers/1234567890/campaigns/{expected['campaign_id']}",
            "id": expected["campaign_id"],
            "name": expected["campaign_name"],
        }
        assert row["segments"] == {"date": expected["date"].isoformat()}
        metrics = row["metrics"]
        assert metrics["costMicros"] == str(round(expected["spend"] * 1_000_000))
        assert metrics["clicks"] == str(expected["clicks"]) and metrics["impressions"] == str(expected["impressions"])
        assert isinstance(metrics["conversions"], float) and isinstance(metrics["conversionsValue"], float)
        assert metrics["conversionsValue"] == expected["conversion_value"]


def test_google_batches_are_configurable(sandbox):
    sandbox.platform_api("google_ads").batch_size = 4
    batches = google_post(sandbox, since=END - timedelta(days=4), until=END).json()
    assert [len(b["results"]) for b in batches] == [4, 4, 4, 3]
    assert len({b["requestId"] for b in batches}) == 1


def test_google_empty_window_is_one_batch_without_results(sandbox):
    batches = google_post(sandbox, since=END + timedelta(days=5), until=END + timedelta(days=6)).json()
    assert len(batches) == 1 and "results" not in batches[0] and batches[0]["fieldMask"]


def test_google_omits_zero_valued_fields():
    account = Account(
        platform="google_ads",
        account_id="5550001111",
        workspace_id="test_ws",
        currency="USD",
        timezone="UTC",
        campaigns=(Campaign("30000000001", "Display - Test", 200.0, 5.0, 0.01, 0.05, 50.0),),
    )
    day = date(2026, 1, 10)
    world = World(
        [account],
        anomalies=[Anomaly("no_clicks", "google_ads", "5550001111", "30000000001", day)],
    )
    with SandboxServer(world, today=day + timedelta(days=5)) as sandbox:
        batches = google_post(sandbox, customer="5550001111", since=day - timedelta(days=1), until=day).json()
    quiet, ordinary = batches[0]["results"][1], batches[0]["results"][0]
    assert quiet["segments"]["date"] == day.isoformat()
    assert set(quiet["metrics"]) == {"costMicros", "impressions"}
    assert set(ordinary["metrics"]) == {
        "costMicros",
        "impressions",
        "clicks",
        "conversions",
        "conversionsValue",
    }


def test_google_auth_and_query_errors(sandbox):
    token = google_token(sandbox)
    bad_bearer = google_post(sandbox, token="ya29.nope")
    assert bad_bearer.status_code == 401 and bad_bearer.json()["error"]["status"] == "UNAUTHENTICATED"
    bad_dev = google_post(sandbox, token=token, **{"developer-token": "wrong"})
    assert bad_dev.status_code == 403
    failure = bad_dev.json()["error"]["details"][0]["errors"][0]
    assert failure["errorCode"] == {"authorizationError": "DEVELOPER_TOKEN_NOT_APPROVED"}
    wrong_resource = google_post(sandbox, token=token, query="SELECT keyword_view.resource_name FROM keyword_view")
    assert wrong_resource.status_code == 400 and isinstance(wrong_resource.json(), list)
    no_dates = google_post(sandbox, token=token, query="SELECT campaign.id, segments.date FROM campaign")
    assert no_dates.status_code == 400
    unknown_customer = google_post(sandbox, customer="9999999999", token=token)
    assert unknown_customer.status_code == 403
    dashed_login = google_post(sandbox, token=token, **{"login-customer-id": "123-456-7890"})
    assert dashed_login.status_code == 400
    assert google_post(sandbox, token=token, **{"login-customer-id": "1234567890"}).status_code == 200
    refused = requests.post(sandbox.google_token_url, data={"grant_type": "refresh_token", "client_id": "x"})
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_client"
    sandbox.expire_tokens()
    assert google_post(sandbox, token=token).status_code == 401


# -- faults and counters ---------------------------------------------------------------


def test_faults_are_a_table_checked_before_dispatch(sandbox):
    admin = f"{sandbox.url}/_sandbox/faults"
    created = requests.post(
        admin,
        json={
            "platform": "meta",
            "account_id": "1000000001",
            "kind": "garbage",
            "count": 1,
        },
    )
    assert created.status_code == 201
    garbage = meta_get(sandbox)
    assert garbage.status_code == 200
    with pytest.raises(ValueError):
        garbage.json()
    assert meta_get(sandbox).status_code == 200  # count 1: used up

    requests.post(
        admin,
        json={
            "platform": "google_ads",
            "account_id": None,
            "kind": "http_500",
            "count": None,
        },
    )
    for _ in range(2):
        failed = google_post(sandbox)
        assert failed.status_code == 500 and failed.json()[0]["error"]["status"] == "INTERNAL"
    assert len(requests.get(admin).json()["faults"]) == 1
    assert requests.delete(admin).json() == {"cleared": 1}
    assert google_post(sandbox).status_code == 200

    requests.post(
        admin,
        json={
            "platform": "meta",
            "kind": "http_500",
            "count": 1,
            "account_id": "2000000002",
        },
    )
    assert meta_get(sandbox).status_code == 200  # other account untouched
    broken = meta_get(sandbox, account="2000000002")
    assert broken.status_code == 500 and broken.json()["error"]["code"] == 2

    requests.post(
        admin,
        json={
            "platform": "meta",
            "kind": "garbage",
            "count": 1,
            "variant": "truncated",
        },
    )
    truncated = meta_get(sandbox)
    assert truncated.text.startswith('{"data":[') and not truncated.text.endswith("}")
    assert requests.post(admin, json={"kind": "meteor"}).status_code == 400


def test_stats_count_requests_per_platform(sandbox):
    meta_get(sandbox)
    meta_get(sandbox, token="bad")
    google_post(sandbox)
    stats = requests.get(f"{sandbox.url}/_sandbox/stats").json()
    assert stats["meta"]["requests"] == 2 and stats["meta"]["status"] == {
        "200": 1,
        "400": 1,
    }
    assert stats["google_ads"]["endpoints"] == {"token": 1, "searchStream": 1}
    requests.delete(f"{sandbox.url}/_sandbox/stats")
    assert requests.get(f"{sandbox.url}/_sandbox/stats").json() == {}


def test_unknown_paths_answer_in_the_platform_shape(sandbox):
    meta = requests.get(f"{sandbox.url}/meta/v21.0/me/adaccounts", timeout=10)
    assert meta.status_code == 400 and meta.json()["error"]["code"] == 100
    google = requests.get(f"{sandbox.url}/google_ads/v21/customers:listAccessibleCustomers", timeout=10)
    assert google.status_code == 404 and google.json()["error"]["status"] == "NOT_FOUND"


# -- command line ------------------------------------------------------------------


def test_cli_truth_prints_rows_as_json():
    result = subprocess.run(
        [sys.executable, "-m", "sandbox", "truth", "--end-date", END.isoformat(), "--platform", "google_ads",
         "--account", "2345678901", "--since", END.isoformat(), "--until", END.isoformat()],
        cwd=REPO, capture_output=True, text=True, check=True, timeout=60,
    )  # fmt: skip
    rows = json.loads(result.stdout)
    assert [r["campaign_id"] for r in rows] == [
        "20000000011",
        "20000000012",
        "20000000013",
    ]
    assert rows[0]["date"] == END.isoformat() and rows[0]["currency"] == "EUR"


def test_cli_serve_reads_credentials_from_a_file(tmp_path):
    credentials = {
        "meta": {"access_token": "meta-token-from-file"},
        "google_ads": {
            "developer_token": "d",
            "client_id": "c",
            "client_secret": "s",
            "refresh_token": "r",
        },
    }
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps(credentials))
    proc = subprocess.Popen(
        [sys.executable, "-m", "sandbox", "serve", "--port", "0", "--end-date", END.isoformat(),
         "--credentials-file", str(path)],
        cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        url = proc.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        clock = requests.get(f"{url}/_sandbox/clock", timeout=10).json()
        assert clock["today"] == TODAY.isoformat()
        response = requests.get(
            f"{url}/meta/v21.0/act_1000000001/insights",
            params={
                "access_token": "meta-token-from-file",
                "level": "campaign",
                "time_increment": "1",
            },
            timeout=10,
        )
        assert response.status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "meta-token-from-file" not in proc.stderr.read()
