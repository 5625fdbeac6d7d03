"""Campaign names from entity lists, and the finer grains' staging models, on a real dbt build.

Snapchat and LinkedIn performance reports carry no campaign name: the names come from
the campaign lists landed as entity-list raw tables (report_date null). The finer
grains (TikTok ad groups, Snapchat ad squads, LinkedIn creatives, Amazon ad groups) must carry their names and sum to the
campaign grain. The raw rows here are the sandbox's answers fetched through the
adapters; the expectations come from the sandbox world, not from the pipeline.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg2
import psycopg2.extras
import pytest
from sandbox_clients import http
from test_dbt_project import WORKSPACE_ACCOUNTS_DDL, dbt_env, fetch, run_dbt, run_results

from adapters.amazon_ads import AmazonAdsReportClient
from adapters.amazon_ads import classify as amazon_classify
from adapters.amazon_ads import report_date as amazon_report_date
from adapters.base import entity_report_date
from adapters.linkedin import LinkedInAnalyticsClient
from adapters.linkedin import classify as linkedin_classify
from adapters.linkedin import report_date as linkedin_report_date
from adapters.snapchat import SnapchatStatsClient
from adapters.snapchat import classify as snapchat_classify
from adapters.snapchat import report_date as snapchat_report_date
from adapters.tiktok import TikTokReportClient
from adapters.tiktok import classify as tiktok_classify
from adapters.tiktok import report_date as tiktok_report_date
from ads_elt.warehouse import ensure_schema
from sandbox.platforms.linkedin import campaign_group_of
from sandbox.server import SandboxServer
from sandbox.world import World

END = date(2026, 11, 20)
SINCE = END - timedelta(days=4)
SNAPCHAT = "8f2b7a4e-5c1d-4e3a-9b6f-2d8c0e1a7b3c"
TIKTOK = "7100000000000001"
AMAZON = "3100000000000001"
LINKEDIN = "508000001"
# The finer-grain models built here: (model, platform, campaign-grain staging model).
FINE = {
    "stg_tiktok__ad_group_report": ("tiktok", "stg_tiktok__campaign_report"),
    "int_snapchat_ad_squad_performance_named": ("snapchat", "stg_snapchat__campaign_stats"),
    "int_linkedin_creative_performance_named": ("linkedin", "stg_linkedin__ad_analytics"),
    "stg_amazon_ads__sp_ad_groups": ("amazon_ads", "stg_amazon_ads__sp_campaigns"),
}
FINE_MODELS = [f"+{m}" for m in FINE]
COLUMNS = "(workspace_id, account_id, report_date, payload, sync_run_id, window_start, window_end, extracted_at)"


def _clients(sandbox: SandboxServer):
    snap, li = sandbox.credentials["snapchat"], sandbox.credentials["linkedin"]
    snapchat = SnapchatStatsClient(
        sandbox.platform_url("snapchat"),
        snap["client_id"],
        snap["client_secret"],
        snap["refresh_token"],
        token_url=sandbox.platform_url("snapchat") + "/login/oauth2/access_token",
        http=http("snapchat", snapchat_classify),
        campaign_page_size=1,
    )
    linkedin = LinkedInAnalyticsClient(
        sandbox.platform_url("linkedin"),
        client_id=li["client_id"],
        client_secret=li["client_secret"],
        refresh_token=li["refresh_token"],
        token_url=sandbox.platform_url("linkedin") + "/oauth/v2/accessToken",
        http=http("linkedin", linkedin_classify),
        entity_page_size=1,
    )
    tiktok = TikTokReportClient(sandbox.platform_url("tiktok"), sandbox.credentials["tiktok"]["access_token"], http=http("tiktok", tiktok_classify))
    am = sandbox.credentials["amazon_ads"]
    amazon = AmazonAdsReportClient(
        sandbox.platform_url("amazon_ads"),
        am["client_id"],
        am["client_secret"],
        am["refresh_token"],
        token_url=sandbox.platform_url("amazon_ads") + "/auth/o2/token",
        http=http("amazon_ads", amazon_classify),
        download_http=http("amazon_ads", amazon_classify),
    )
    return snapchat, linkedin, tiktok, amazon


def _rows(world: World, platform: str, account_id: str, pages, report_date) -> list[tuple]:
    workspace = world.account(platform, account_id).workspace_id
    at = datetime(2026, 11, 21, 6, tzinfo=UTC)
    return [
        (workspace, account_id, report_date(r), json.dumps(r), "run_1", SINCE, END, at)
        for page in pages
        for r in page.records
    ]


@pytest.fixture(scope="module")
def world() -> World:
    return World.demo(END)


@pytest.fixture(scope="module")
def built(pg_server, world, tmp_path_factory):
    with SandboxServer(world) as sandbox:
        snapchat, linkedin, tiktok, amazon = _clients(sandbox)
        no_wait = {"poll_seconds": 0, "sleep": lambda seconds: None}
        raw = {
            "amazon_ads__sp_campaigns": _rows(world, "amazon_ads", AMAZON, amazon.fetch_campaign_report(AMAZON, SINCE, END, **no_wait), amazon_report_date),
            "amazon_ads__sp_ad_groups": _rows(world, "amazon_ads", AMAZON, amazon.fetch_ad_group_report(AMAZON, SINCE, END, **no_wait), amazon_report_date),
            "tiktok__campaign_report": _rows(world, "tiktok", TIKTOK, tiktok.fetch_campaign_report(TIKTOK, SINCE, END), tiktok_report_date),
            "tiktok__ad_group_report": _rows(world, "tiktok", TIKTOK, tiktok.fetch_ad_group_report(TIKTOK, SINCE, END), tiktok_report_date),
            "snapchat__ad_squad_stats": _rows(world, "snapchat", SNAPCHAT, snapchat.fetch_ad_squad_stats(SNAPCHAT, SINCE, END), snapchat_report_date),
            "snapchat__ad_squads": _rows(world, "snapchat", SNAPCHAT, snapchat.fetch_ad_squads(SNAPCHAT), entity_report_date),
            "snapchat__campaign_stats": _rows(world, "snapchat", SNAPCHAT, snapchat.fetch_campaign_stats(SNAPCHAT, SINCE, END), snapchat_report_date),
            "snapchat__campaigns": _rows(world, "snapchat", SNAPCHAT, snapchat.fetch_campaigns(SNAPCHAT), entity_report_date),
            "linkedin__ad_analytics": _rows(world, "linkedin", LINKEDIN, linkedin.fetch_ad_analytics(LINKEDIN, SINCE, END), linkedin_report_date),
            "linkedin__campaigns": _rows(world, "linkedin", LINKEDIN, linkedin.fetch_campaigns(LINKEDIN), entity_report_date),
            "linkedin__creative_analytics": _rows(world, "linkedin", LINKEDIN, linkedin.fetch_creative_analytics(LINKEDIN, SINCE, END), linkedin_report_date),
            "linkedin__creatives": _rows(world, "linkedin", LINKEDIN, linkedin.fetch_creatives(LINKEDIN), entity_report_date),
            "linkedin__campaign_groups": _rows(world, "linkedin", LINKEDIN, linkedin.fetch_campaign_groups(LINKEDIN), entity_report_date),
        }
    # One LinkedIn campaign missing from its list: its performance must stay, nameless.
    unlisted = world.account("linkedin", LINKEDIN).campaigns[-1].campaign_id
    raw["linkedin__campaigns"] = [r for r in raw["linkedin__campaigns"] if str(json.loads(r[3])["id"]) != unlisted]
    dbname = pg_server.create_database(prefix="names")
    dsn = pg_server.dsn(dbname)
    conn = psycopg2.connect(dsn)
    try:
        ensure_schema(conn)
        with conn.cursor() as cur:
            cur.execute(WORKSPACE_ACCOUNTS_DDL)
            accounts = [
                (a.workspace_id, a.platform, a.account_id, a.name, a.currency, a.timezone, a.currency)
                for a in world.accounts
                if a.platform in ("snapchat", "linkedin", "tiktok", "amazon_ads")
            ]
            psycopg2.extras.execute_values(cur, "insert into ops.workspace_accounts values %s", accounts)
            for table, rows in raw.items():
                assert rows, table
                psycopg2.extras.execute_values(cur, f'insert into raw."{table}" {COLUMNS} values %s', rows)
        conn.commit()
    finally:
        conn.close()
    workdir = tmp_path_factory.mktemp("dbt-names")
    run_dbt(
        [
            "build",
            "--select",
            *FINE_MODELS,
            "+fct_ad_performance_daily",
            "+fct_ad_group_performance_daily",
            "+fct_ad_performance_ad_daily",
            "assert_fine_grain_facts_reconcile_to_campaigns",
            "--indirect-selection",
            "cautious",
        ],
        dbt_env(pg_server.port, dbname, pg_server.password),
        workdir,
    )
    return dsn, unlisted, run_results(workdir)


def test_snapchat_and_linkedin_facts_carry_the_campaign_list_names(built, world):
    dsn, unlisted, _ = built
    fact = fetch(dsn, "select * from marts.fct_ad_performance_daily where platform in ('snapchat', 'linkedin')")
    expected_keys = {
        (t["platform"], t["campaign_id"], t["date"])
        for platform, account in (("snapchat", SNAPCHAT), ("linkedin", LINKEDIN))
        for t in world.truth_rows(platform, account, SINCE, END)
    }
    assert {(r["platform"], r["campaign_id"], r["date_day"]) for r in fact} == expected_keys  # no row lost to the join
    names = {(a.platform, c.campaign_id): c.name for a in world.accounts for c in a.campaigns}
    for row in fact:
        if row["campaign_id"] == unlisted:
            assert row["campaign_name"] is None and row["campaign_group_id"] is None
        else:
            assert row["campaign_name"] == names[(row["platform"], row["campaign_id"])], row


def test_linkedin_campaigns_carry_their_campaign_group(built, world):
    dsn, unlisted, _ = built
    fact = fetch(dsn, "select * from marts.fct_ad_performance_daily where platform = 'linkedin'")
    listed = [r for r in fact if r["campaign_id"] != unlisted]
    assert listed
    for row in listed:
        group_id, group_name = campaign_group_of(LINKEDIN, row["campaign_name"])
        assert (row["campaign_group_id"], row["campaign_group_name"]) == (str(group_id), group_name)
    snapchat = fetch(dsn, "select distinct campaign_group_id from marts.fct_ad_performance_daily where platform = 'snapchat'")
    assert snapchat == [{"campaign_group_id": None}]


@pytest.mark.parametrize("model", FINE)
def test_finer_grain_rows_carry_the_worlds_names(built, world, model):
    dsn, unlisted, _ = built
    platform, _ = FINE[model]
    account = {"tiktok": TIKTOK, "snapchat": SNAPCHAT, "linkedin": LINKEDIN, "amazon_ads": AMAZON}[platform]
    schema = "staging" if model.startswith("stg_") else "intermediate"
    rows = fetch(dsn, f"select * from {schema}.{model}")
    truth = {(t["ad_group_id"], t["date"]): t for t in world.truth_rows(platform, account, SINCE, END, level="ad_group")}
    assert {(r["ad_group_id"], r["date_day"]) for r in rows} == set(truth)
    for row in rows:
        t = truth[(row["ad_group_id"], row["date_day"])]
        expected_name = None if t["campaign_id"] == unlisted else t["campaign_name"]  # not in the campaign list
        assert (row["campaign_id"], row["campaign_name"], row["ad_group_name"]) == (t["campaign_id"], expected_name, t["ad_group_name"])


@pytest.mark.parametrize("model", FINE)
def test_finer_grain_sums_to_the_campaign_grain_exactly(built, model):
    dsn, _, _ = built
    platform, campaign_model = FINE[model]
    schema = "staging" if model.startswith("stg_") else "intermediate"
    metrics = ("impressions", "clicks", "spend", "conversions", "conversion_value")
    fine = fetch(dsn, f"select campaign_id, date_day, {', '.join(f'sum({m}) as {m}' for m in metrics)} from {schema}.{model} group by 1, 2")
    coarse = {(r["campaign_id"], r["date_day"]): r for r in fetch(dsn, f"select * from staging.{campaign_model}")}
    assert {(r["campaign_id"], r["date_day"]) for r in fine} == set(coarse)
    for row in fine:
        for metric in metrics:
            expected = coarse[(row["campaign_id"], row["date_day"])][metric]
            if metric in ("spend", "conversion_value"):  # LinkedIn's long-precision strings differ past the cent
                assert abs(row[metric] - expected) < Decimal("0.005"), (platform, metric, row)
            else:
                assert row[metric] == expected, (platform, metric, row)


def test_the_ad_group_fact_has_every_platforms_ad_groups(built, world):
    dsn, _, _ = built
    rows = fetch(dsn, "select platform, ad_group_id, date_day, spend, campaign_name from marts.fct_ad_group_performance_daily")
    accounts = {"tiktok": TIKTOK, "snapchat": SNAPCHAT, "linkedin": LINKEDIN, "amazon_ads": AMAZON}
    for platform, account in accounts.items():
        truth = {(t["ad_group_id"], t["date"]): t for t in world.truth_rows(platform, account, SINCE, END, level="ad_group")}
        mine = {(r["ad_group_id"], r["date_day"]): r for r in rows if r["platform"] == platform}
        assert set(mine) == set(truth), platform
        for key, t in truth.items():
            assert abs(mine[key]["spend"] - Decimal(str(t["spend"]))) < Decimal("0.005"), (platform, key)


def test_the_reconcile_test_ran_and_passed(built):
    _, _, results = built
    # The build passed as a whole; the reconcile test must have been part of it (not deselected by the selection).
    statuses = {r["unique_id"]: r["status"] for r in results if "assert_fine_grain_facts_reconcile_to_campaigns" in r["unique_id"]}
    assert list(statuses.values()) == ["pass"], statuses
