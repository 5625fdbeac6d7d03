"""Ad group and ad grain: Meta ad sets and ads, Google Ads ad groups, from the sandbox APIs to their facts.

Expectations come from the sandbox world's ground truth at each grain
(``World.truth_rows(level=...)``), never from the pipeline's own output. The
pipeline's task bodies extract and load every report of an account (campaigns,
then the finer grains) and dbt builds the facts; the reconciliation test must
pass, and fail once an ad row goes missing.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import psycopg2
import psycopg2.extensions
import pytest
from sandbox_clients import http
from test_dbt_project import dbt_env, fetch, run_dbt, run_results

# The faults tests' sandbox, world and pipeline environment (registry, Connections, warehouse), reused.
from test_faults import GOOGLE, HISTORY_DAYS, META, REPORT_DATE, env, sandbox, sync, world  # noqa: F401

from adapters.google_ads import GoogleAdsClient, parse_ad_group_page
from adapters.google_ads import classify as google_classify
from adapters.meta import MetaInsightsClient
from adapters.meta import classify as meta_classify

SINCE = REPORT_DATE - timedelta(days=HISTORY_DAYS - 1)
AS_OF = REPORT_DATE + timedelta(days=1)
RECONCILE = "assert_fine_grain_facts_reconcile_to_campaigns"


def truth(ground, platform: str, account_id: str, level: str) -> dict[tuple, tuple]:
    """(campaign, ad group[, ad], day) -> (spend, impressions, clicks, conversions, conversion value) from the world."""
    out = {}
    for r in ground.truth_rows(platform, account_id, SINCE, REPORT_DATE, as_of=AS_OF, level=level):
        key = (r["campaign_id"], r["ad_group_id"], *((r["ad_id"],) if level == "ad" else ()), r["date"])
        out[key] = (
            round(Decimal(str(r["spend"])), 2),
            r["impressions"],
            r["clicks"],
            round(Decimal(str(r["conversions"])), 2),
            round(Decimal(str(r["conversion_value"])), 2),
        )
    return out


def test_meta_answers_ad_sets_and_ads_with_their_ids_and_the_worlds_numbers(sandbox, world):  # noqa: F811
    client = MetaInsightsClient(
        sandbox.meta_url, sandbox.credentials["meta"]["access_token"], http=http("meta", meta_classify), page_limit=40
    )
    for level, grain in (("adset", "ad_group"), ("ad", "ad")):
        pages = list(client.fetch_insights(META[1], SINCE, REPORT_DATE, level=level))
        assert len(pages) > 1 and all(p.request["params"]["level"] == level for p in pages)
        rows = [r for p in pages for r in p.records]
        got = {}
        for r in rows:
            key = (
                r["campaign_id"],
                r["adset_id"],
                *((r["ad_id"],) if level == "ad" else ()),
                date.fromisoformat(r["date_start"]),
            )
            purchases = next(
                (a["value"] for a in r.get("actions", []) if a["action_type"] == "offsite_conversion.fb_pixel_purchase"), "0"
            )
            value = next(
                (a["value"] for a in r.get("action_values", []) if a["action_type"] == "offsite_conversion.fb_pixel_purchase"),
                "0",
            )
            got[key] = (Decimal(r["spend"]), int(r["impressions"]), int(r["clicks"]), Decimal(purchases), Decimal(value))
        assert len(got) == len(rows)  # one row per object and day
        assert got == truth(world, "meta", META[1], grain)
        if level == "adset":
            assert all("ad_id" not in r and r["adset_name"] for r in rows)
        else:
            assert all(r["ad_name"] for r in rows)


def test_google_ads_answers_from_ad_group_with_each_ad_group_and_its_campaign(sandbox, world):  # noqa: F811
    creds = sandbox.credentials["google_ads"]
    client = GoogleAdsClient(
        sandbox.google_ads_url,
        creds["developer_token"],
        creds["client_id"],
        creds["client_secret"],
        creds["refresh_token"],
        token_url=sandbox.google_token_url,
        http=http("google_ads", google_classify),
    )
    (page,) = client.fetch_ad_group_performance(GOOGLE[1], SINCE, REPORT_DATE)
    assert "FROM ad_group" in page.request["params"]["query"]
    got = {}
    for r in parse_ad_group_page(page.body):
        m = r.get("metrics", {})
        assert r["adGroup"]["resourceName"] == f"customers/{GOOGLE[1]}/adGroups/{r['adGroup']['id']}"
        key = (r["campaign"]["id"], r["adGroup"]["id"], date.fromisoformat(r["segments"]["date"]))
        got[key] = (
            Decimal(m.get("costMicros", "0")) / 1_000_000,
            int(m.get("impressions", "0")),
            int(m.get("clicks", "0")),
            round(Decimal(str(m.get("conversions", 0))), 2),
            round(Decimal(str(m.get("conversionsValue", 0))), 2),
        )
    assert got == truth(world, "google_ads", GOOGLE[1], "ad_group")


def fact(dsn: str, table: str, platform: str, with_ad: bool) -> dict[tuple, tuple]:
    ad = "ad_id, " if with_ad else ""
    rows = fetch(
        dsn,
        f"select campaign_id, ad_group_id, {ad}date_day, spend, impressions, clicks, conversions, conversion_value "
        f"from marts.{table} where platform = '{platform}'",
    )
    out = {}
    for r in rows:
        key = (r["campaign_id"], r["ad_group_id"], *((r["ad_id"],) if with_ad else ()), r["date_day"])
        out[key] = (
            round(r["spend"], 2),
            r["impressions"],
            r["clicks"],
            round(r["conversions"], 2),
            round(r["conversion_value"], 2),
        )
    return out


@pytest.mark.usefixtures("sandbox")
def test_fine_grain_facts_equal_the_world_and_reconcile_to_the_campaign_fact(env, world, tmp_path):  # noqa: F811
    assert sync("meta", "grain_1") == {META[1]: "loaded"}
    assert sync("google_ads", "grain_1") == {GOOGLE[1]: "loaded"}
    dbname = psycopg2.extensions.parse_dsn(env)["dbname"]
    port = int(psycopg2.extensions.parse_dsn(env)["port"])
    password = psycopg2.extensions.parse_dsn(env).get("password", "")
    dbt = dbt_env(port, dbname, password)
    select = ["--select", "+fct_ad_group_performance_daily", "+fct_ad_performance_ad_daily", "+fct_ad_performance_daily"]
    run_dbt(["build", *select, "--indirect-selection", "cautious", "--exclude", "resource_type:unit_test"], dbt, tmp_path)
    statuses = {r["unique_id"].split(".")[-1]: r["status"] for r in run_results(tmp_path)}
    assert statuses[RECONCILE] == "pass"

    assert fact(env, "fct_ad_group_performance_daily", "meta", False) == truth(world, "meta", META[1], "ad_group")
    assert fact(env, "fct_ad_group_performance_daily", "google_ads", False) == truth(world, "google_ads", GOOGLE[1], "ad_group")
    assert fact(env, "fct_ad_performance_ad_daily", "meta", True) == truth(world, "meta", META[1], "ad")
    names = fetch(env, "select distinct ad_group_name, ad_name, campaign_name from marts.fct_ad_performance_ad_daily")
    assert all(r["ad_group_name"] and r["ad_name"] and r["campaign_name"] for r in names)

    # One ad-day the platform did not deliver: the ad fact no longer adds up to its campaign-day.
    conn = psycopg2.connect(env)
    with conn, conn.cursor() as cur:
        cur.execute("delete from raw.meta__ad_insights where ctid = (select min(ctid) from raw.meta__ad_insights)")
    conn.close()
    result = run_dbt(["build", "--select", "fct_ad_performance_ad_daily", RECONCILE], dbt, tmp_path, check=False)
    assert result.returncode != 0
    failures = {r["unique_id"].split(".")[-1]: (r["status"], r["failures"]) for r in run_results(tmp_path)}
    assert failures[RECONCILE] == ("fail", 1)
