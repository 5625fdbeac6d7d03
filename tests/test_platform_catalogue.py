"""A platform is one unit: a spec in its adapter folder is all the pipeline's layers need.

A fake ad platform is written as a package of its own in a temporary folder and found by the
catalogue's discovery alone (its folder joins the ``adapters`` package's path); no other file
names it. The DAG's task groups, the raw tables, validation, Connections and alert labels then
pick it up. The real catalogue is pinned too: the same platforms in the same order, the same
raw tables as before the catalogue.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path

import pytest
from stack import airflow_env, ensure_manifest

import adapters
from adapters.catalogue import ConnectionSettings, SettingsError
from ads_elt import warehouse
from ads_elt.alerts.formatting import platform_label
from ads_elt.ingestion import validation
from ads_elt.registry import connections

REPO = Path(__file__).resolve().parents[1]

FAKE = "fakeads"
FAKE_PACKAGE = textwrap.dedent(
    '''
    """Fake Ads: a platform that exists only in a test."""

    import json
    from datetime import date

    from adapters.catalogue import ConnectionConvention, FieldSpec, PlatformSpec, Report, entity_list, metric_fields


    class FakeAdsClient:
        def __init__(self, base_url, api_key, region):
            self.base_url, self.api_key, self.region = base_url, api_key, region


    def parse_page(body):
        return json.loads(body)["rows"]


    def report_date(record):
        return date.fromisoformat(record["day"])


    def fetch(client, account_id, since, until):
        return iter(())


    def build_client(settings):
        return FakeAdsClient(
            settings.base_url(),
            settings.require(settings.password, "password (the API key)"),
            settings.extra.get("region", "eu"),
        )


    SPEC = PlatformSpec(
        name="fakeads",
        label="Fake Ads",
        order=35,  # between TikTok (30) and Snapchat (40)
        primary=Report(
            "daily_stats",
            parse_page,
            report_date,
            fetch,
            fields=(FieldSpec("campaign_id", ("cid",), "text"), *metric_fields(("cost",), ("imps",), ("clicks",))),
        ),
        extra=(entity_list("campaigns", parse_page, fetch, FieldSpec("campaign_id", ("id",), "text")),),
        lookback_days=5,
        attribution="7-day click (the fake's only setting)",
        connection=ConnectionConvention("https://api.fakeads.test", password="API key", extra="region", required=("host", "password")),
        build_client=build_client,
    )
    '''
)

BEFORE_THE_CATALOGUE = {
    "meta__insights",
    "meta__adset_insights",
    "meta__ad_insights",
    "google_ads__campaign_performance",
    "google_ads__ad_group_performance",
    "tiktok__campaign_report",
    "tiktok__ad_group_report",
    "snapchat__campaign_stats",
    "snapchat__campaigns",
    "snapchat__ad_squad_stats",
    "snapchat__ad_squads",
    "linkedin__ad_analytics",
    "linkedin__campaigns",
    "linkedin__campaign_groups",
    "linkedin__creative_analytics",
    "linkedin__creatives",
    "amazon_ads__sp_campaigns",
    "amazon_ads__sp_ad_groups",
    "file_drop__performance",
    "shopify__orders",
    "woocommerce__orders",
    "salla__orders",
    "zid__orders",
}
AD_ORDER = ("meta", "google_ads", "tiktok", "snapchat", "linkedin", "amazon_ads", "file_drop")
STORE_ORDER = ("shopify", "woocommerce", "salla", "zid")


def write_fake_package(root: Path) -> Path:
    (root / FAKE).mkdir(parents=True)
    (root / FAKE / "__init__.py").write_text(FAKE_PACKAGE)
    return root


@pytest.fixture
def fake_platform(tmp_path, monkeypatch):
    """The fake platform in the catalogue, found by discovery; gone again after the test."""
    root = write_fake_package(tmp_path / "extra_adapters")
    monkeypatch.setattr(adapters, "__path__", [*adapters.__path__, str(root)])
    found = adapters.discover()
    monkeypatch.setitem(adapters.PLATFORMS, FAKE, found[FAKE])
    yield found[FAKE]
    sys.modules.pop(f"adapters.{FAKE}", None)


def test_the_real_catalogue_keeps_its_platforms_order_and_raw_tables():
    assert adapters.ad_platforms() == AD_ORDER == adapters.AD_PLATFORMS
    assert adapters.store_platforms() == STORE_ORDER == adapters.STORE_PLATFORMS
    assert tuple(adapters.discover()) == AD_ORDER + STORE_ORDER
    assert set(warehouse.raw_tables().values()) == BEFORE_THE_CATALOGUE


FULL_SETTINGS = {
    "host": "api.example.test",
    "login": "client-id",
    "password": "secret",
    "extra": {"client_secret": "cs", "developer_token": "dt", "authorization": "auth"},
}
SETTING_FIELDS = ("host", "login", "password", "extra.client_secret", "extra.developer_token", "extra.authorization")


def without(field: str) -> dict:
    settings = {**FULL_SETTINGS, "extra": dict(FULL_SETTINGS["extra"])}
    if field.startswith("extra."):
        del settings["extra"][field.removeprefix("extra.")]
    else:
        settings[field] = None
    return settings


@pytest.mark.parametrize("platform", [p for p, spec in adapters.discover().items() if spec.build_client is not None])
def test_each_connection_convention_names_exactly_the_fields_its_client_requires(platform):
    spec = adapters.PLATFORMS[platform]
    assert spec.build_client(ConnectionSettings("a Connection", **FULL_SETTINGS)) is not None
    required = set()
    for field in SETTING_FIELDS:
        try:
            spec.build_client(ConnectionSettings("a Connection", **without(field)))
        except SettingsError as exc:
            assert str(exc).startswith(f"a Connection has no {field}")
            required.add(field)
    assert required == set(spec.connection.required)


def test_discovery_finds_the_fake_and_places_it_by_its_declared_order(fake_platform):
    assert list(adapters.discover()) == [*AD_ORDER[:3], FAKE, *AD_ORDER[3:], *STORE_ORDER]
    assert adapters.ad_platforms() == (*AD_ORDER[:3], FAKE, *AD_ORDER[3:])
    assert adapters.store_platforms() == STORE_ORDER
    assert adapters.report_spec(FAKE, "campaigns").entity_list


def test_the_fake_gets_its_raw_tables(fake_platform):
    tables = warehouse.raw_tables()
    assert tables[(FAKE, "daily_stats")] == warehouse.raw_table(FAKE, "daily_stats") == "fakeads__daily_stats"
    assert tables[(FAKE, "campaigns")] == "fakeads__campaigns"
    assert set(tables.values()) == BEFORE_THE_CATALOGUE | {"fakeads__daily_stats", "fakeads__campaigns"}


def test_the_fake_is_validated_by_the_checks_its_spec_declares(fake_platform):
    end = date(2026, 11, 20)
    start = end - timedelta(days=1)

    def record(i, payload):
        return validation.Record("page-00001.json", i, payload, date.fromisoformat(payload["day"]) if "day" in payload else None)

    rows = [
        {"cid": "1", "day": start.isoformat(), "cost": 3.5, "imps": 100, "clicks": 4},
        {"cid": "1", "day": end.isoformat(), "cost": -1, "imps": 100, "clicks": 4},
        {"day": end.isoformat(), "cost": 1, "imps": 10, "clicks": 1},
        {"cid": "2", "day": end.isoformat(), "imps": 10, "clicks": 11},
    ]
    result = validation.validate_batch(FAKE, [record(i, r) for i, r in enumerate(rows, 1)], start, end)
    assert {i: f.check for i, f in result.bad.items()} == {1: "negative_value", 2: "schema", 3: "clicks_over_impressions"}
    assert result.bad[1].reason == "spend is negative (-1)"  # read from the fake's own path (cost)

    campaigns = [record(i, r) for i, r in enumerate([{"id": "1"}, {"id": "2"}, {"id": "1"}], 1)]
    listed = validation.validate_batch(FAKE, campaigns, start, end, report="campaigns")
    assert {i: f.check for i, f in listed.bad.items()} == {2: "duplicate"}
    assert not listed.missing_days  # an entity list has no days to miss
    assert not validation.is_order_list(FAKE)


def test_the_fake_client_is_built_from_its_connection(fake_platform, monkeypatch):
    monkeypatch.setenv(
        "AIRFLOW_CONN_FAKEADS_DEFAULT",
        json.dumps(
            {"conn_type": "http", "host": "api.fakeads.test", "port": 8443, "password": "key-1", "extra": {"region": "us"}}
        ),
    )
    monkeypatch.setenv("AIRFLOW_CONN_FAKEADS_NO_KEY", json.dumps({"conn_type": "http", "host": "https://api.fakeads.test"}))
    client = connections.client_for(FAKE, "fakeads_default")
    assert type(client).__name__ == "FakeAdsClient"
    assert (client.base_url, client.api_key, client.region) == ("https://api.fakeads.test:8443", "key-1", "us")
    with pytest.raises(
        connections.ConnectionConfigError, match=r"^Airflow Connection 'fakeads_no_key' has no password \(the API key\)$"
    ):
        connections.client_for(FAKE, "fakeads_no_key")
    assert (
        "| fakeads | https://api.fakeads.test |  | API key | region | host, password |"
        in connections.connection_table().splitlines()
    )


def test_the_fake_is_pulled_by_hand_through_its_spec(fake_platform, capsys):
    """``python -m adapters`` knows the fake from the catalogue alone: listed, its client built from its
    Connection, each of its reports fetched."""
    from adapters.cli import main

    assert main(["--list"]) == 0
    assert "fakeads (Fake Ads): daily_stats, campaigns (entity list)" in capsys.readouterr().out
    window = ["--account", "123", "--since", "2026-11-01", "--until", "2026-11-02"]
    connection = {"AIRFLOW_CONN_FAKEADS_DEFAULT": json.dumps({"host": "api.fakeads.test", "password": "key-1"})}
    for report in ("daily_stats", "campaigns"):
        assert main([FAKE, *window, "--report", report], connection) == 0
        assert json.loads(capsys.readouterr().out)["pages"] == 0  # the fake's fetch yields nothing
    no_key = {"AIRFLOW_CONN_FAKEADS_DEFAULT": json.dumps({"host": "api.fakeads.test"})}
    assert main([FAKE, *window], no_key) == 1
    assert "Connection 'fakeads_default' (AIRFLOW_CONN_FAKEADS_DEFAULT) has no password (the API key)" in capsys.readouterr().err


def test_the_fake_has_its_alert_label(fake_platform):
    assert platform_label(FAKE) == "Fake Ads"
    assert platform_label("tiktok") == "TikTok" and platform_label("all") == "All platforms"


PROBE = r"""
import json, sys
import adapters

adapters.__path__.append(sys.argv[1])
adapters.PLATFORMS.update(adapters.discover())
from airflow.dag_processing.dagbag import DagBag

bag = DagBag(dag_folder=sys.argv[2])
dag = bag.dags.get("ads_daily")
print("@@" + json.dumps({
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "groups": list(dag.task_group.children) if dag else [],
    "tasks": sorted(dag.task_ids) if dag else [],
}))
"""


def test_the_daily_dag_has_a_task_group_for_the_fake_in_its_place(tmp_path):
    root = write_fake_package(tmp_path / "extra_adapters")
    home = tmp_path / "airflow"
    env = {**os.environ, **airflow_env(home, home / "lake")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), str(REPO / "plugins")])
    ensure_manifest(env)
    proc = subprocess.run(
        [sys.executable, "-c", PROBE, str(root), str(REPO / "dags" / "ads_daily.py")],
        env=env,
        capture_output=True,
        text=True,
        cwd=REPO,
    )
    line = [x for x in proc.stdout.splitlines() if x.startswith("@@")]
    assert line, proc.stdout[-3000:] + proc.stderr[-3000:]
    out = json.loads(line[-1][2:])
    assert out["errors"] == {}
    platform_groups = [g for g in out["groups"] if g in adapters.PLATFORMS or g == FAKE]
    assert platform_groups == [*AD_ORDER[:3], FAKE, *AD_ORDER[3:], *STORE_ORDER]
    assert {f"{FAKE}.plan", f"{FAKE}.account.extract", f"{FAKE}.account.load"} <= set(out["tasks"])


def test_every_api_platform_of_the_catalogue_has_a_sandbox_connection_its_client_accepts(monkeypatch):
    """The sandbox module of each platform knows the Connection its adapter needs: the demo and the tests build
    every ad platform's client from it (a field the spec requires and the sandbox forgot fails here)."""
    from stack import new_credentials, platform_connections_env

    from sandbox.platforms import connections as sandbox_connections

    url = "http://127.0.0.1:9"
    creds = new_credentials()
    for name, value in platform_connections_env(url, creds).items():
        monkeypatch.setenv(name, value)
    fetched = [
        p for p in adapters.ad_platforms() if adapters.PLATFORMS[p].build_client is not None and adapters.PLATFORMS[p].fetch
    ]
    assert set(sandbox_connections(url, creds)) == {f"{p}_default" for p in fetched}
    for platform in fetched:
        client = connections.client_for(platform, f"{platform}_default")
        assert url in json.dumps(vars(client), default=str), platform  # it talks to the sandbox
