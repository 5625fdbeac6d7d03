"""A manual run limited to a workspace, a platform or one account (ads_daily's params, the API's sync endpoints)
plans only those accounts; a limit naming nothing the registry has stops the run instead of syncing nothing."""

from __future__ import annotations

import json
from datetime import date

import pytest

REPORT_DATE = date(2026, 11, 20)
REGISTRY = """
version: 1
workspaces:
  - id: northwind_us
    name: Northwind Outdoor
    currency: USD
    timezone: America/New_York
    accounts:
      - {platform: meta, account_id: "1000000001"}
      - {platform: meta, account_id: "1000000002"}
      - {platform: google_ads, account_id: "1234567890"}
  - id: lumen_eu
    name: Lumen Skincare EU
    currency: EUR
    timezone: Europe/Berlin
    accounts:
      - {platform: meta, account_id: "2000000001"}
"""


@pytest.fixture
def planned(pg_server, tmp_path, monkeypatch):
    dbname = pg_server.create_database("limits")
    warehouse = {"conn_type": "postgres", "host": "127.0.0.1", "port": pg_server.port, "login": "postgres",
                 "password": pg_server.password, "schema": dbname}  # fmt: skip
    monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps(warehouse))  # the administrator: the roles have their own tests
    registry = tmp_path / "workspaces.yml"
    registry.write_text(REGISTRY)
    monkeypatch.setenv("ADS_ELT_REGISTRY", str(registry))
    from ads_elt.ingestion import pipeline

    pipeline.prepare(REPORT_DATE)

    def plan(group: str, **only: str) -> list[tuple[str, str]]:
        """The scopes the `group` platform's plan task gives for a run limited by `only`."""
        return [(s.workspace_id, s.account_id) for s in pipeline.plan(group, REPORT_DATE, "manual__x", only=only)]

    return plan


def test_a_run_limited_to_one_account_plans_only_that_account(planned):
    assert planned("meta") == [("northwind_us", "1000000001"), ("northwind_us", "1000000002"), ("lumen_eu", "2000000001")]
    one = {"workspace_id": "northwind_us", "platform": "meta", "account_id": "1000000002"}
    assert planned("meta", **one) == [("northwind_us", "1000000002")]
    assert planned("google_ads", **one) == []


def test_a_run_limited_to_a_workspace_plans_its_accounts_on_every_platform(planned):
    assert planned("meta", workspace_id="lumen_eu") == [("lumen_eu", "2000000001")]
    assert planned("google_ads", workspace_id="lumen_eu") == []
    assert planned("google_ads", workspace_id="northwind_us") == [("northwind_us", "1234567890")]


@pytest.mark.parametrize(
    ("only", "message"),
    [
        ({"workspace_id": "nowhere"}, "no account in the registry matches"),
        ({"workspace_id": "lumen_eu", "platform": "meta", "account_id": "1000000001"}, "no account in the registry matches"),
        ({"account_id": "1000000001"}, "needs workspace_id and platform"),
        ({"workspace": "lumen_eu"}, "unknown sync limit"),
    ],
)
def test_a_limit_naming_nothing_stops_the_run(planned, only, message):
    with pytest.raises(ValueError, match=message):
        planned("meta", **only)


def test_the_dag_takes_the_limits_as_params():
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("ads_daily_params", Path(__file__).resolve().parents[1] / "dags" / "ads_daily.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert set(module.PARAMS) == {"workspace_id", "platform", "account_id"}
    assert module.sync_limits({"workspace_id": "lumen_eu", "platform": None, "account_id": ""}) == {"workspace_id": "lumen_eu"}
    assert module.sync_limits(None) == {}
