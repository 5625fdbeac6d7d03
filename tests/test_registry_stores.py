"""Stores in the workspace registry: validated like accounts, before anything is written."""

from __future__ import annotations

import copy

import pytest
import yaml

from ads_elt.registry import DEFAULT_REGISTRY, RegistryError, load_registry, parse_registry


def demo() -> dict:
    return yaml.safe_load(DEFAULT_REGISTRY.read_text())


def souq(data: dict) -> dict:
    return next(w for w in data["workspaces"] if w["id"] == "souq_sa")


def test_demo_stores_match_the_sandbox_stores():
    from sandbox.stores import demo_stores

    registry = {(a.workspace_id, a.platform, a.account_id, a.currency, a.timezone) for a in load_registry(DEFAULT_REGISTRY).accounts() if a.platform in ("shopify", "woocommerce", "salla", "zid")}
    sandbox = {(s.workspace_id, s.platform, s.store_id, s.currency, s.timezone) for s in demo_stores()}
    assert registry == sandbox


def test_store_defaults_come_from_the_workspace_and_the_lookback_defaults():
    data = demo()
    data["defaults"]["lookback_days"]["salla"] = 10
    reg = parse_registry(data)
    salla, zid = reg.accounts("salla")[0], reg.accounts("zid")[0]
    assert (salla.currency, salla.timezone, salla.lookback_days, salla.connection) == ("SAR", "Asia/Riyadh", 10, "salla_souq")
    assert zid.lookback_days == 21  # set on the store
    assert reg.accounts("shopify")[0].lookback_days == 14


@pytest.mark.parametrize(
    "mutate, where, problem",
    [
        (lambda w: w["stores"][0].update(platform="magento"), "workspaces[3].stores[0].platform", "not one of"),
        (lambda w: w["stores"][0].update(store_id="abc"), "workspaces[3].stores[0].store_id", "does not match"),
        (lambda w: w["stores"][1].pop("connection"), "workspaces[3].stores[1].connection", "missing"),
        (lambda w: w["stores"][1].update(timezone="Mars/Base"), "workspaces[3].stores[1].timezone", "unknown time zone"),
        (lambda w: w["stores"][1].update(lookback_days=120), "workspaces[3].stores[1].lookback_days", "from 0 to 90"),
        (lambda w: w["stores"][0].update(access_token="x"), "workspaces[3].stores[0].access_token", "unknown field"),
        (lambda w: w["stores"].append(copy.deepcopy(w["stores"][0])), "workspaces[3].stores[2].store_id", "already listed"),
        (lambda w: w.update(stores={"platform": "zid"}), "workspaces[3].stores", "expected a list"),
        (lambda w: w["accounts"][0].update(platform="shopify"), "workspaces[3].accounts[0].platform", "stores go under"),
        (lambda w: w.update(attribution_window_days=0), "workspaces[3].attribution_window_days", "from 1 to 90"),
        (lambda w: w.update(attribution_window_days="7"), "workspaces[3].attribution_window_days", "whole number"),
    ],
)
def test_bad_store_entries_name_the_field(mutate, where, problem):
    data = demo()
    mutate(souq(data))
    with pytest.raises(RegistryError) as err:
        parse_registry(data, "workspaces.yml")
    assert f"workspaces.yml: {where}:" in str(err.value)
    assert problem in str(err.value)


def test_attribution_window_is_written_where_dbt_reads_it(pg_conn):
    from ads_elt.alerts import mirror_workspace_settings
    from ads_elt.warehouse import ensure_schema

    data = demo()
    souq(data)["attribution_window_days"] = 10
    data["workspaces"][0].pop("attribution_window_days", None)
    ensure_schema(pg_conn)
    with pg_conn.cursor() as cur:
        mirror_workspace_settings(cur, parse_registry(data))
        cur.execute("select workspace_id, value from ops.workspace_settings where setting = 'attribution_window_days'")
        assert dict(cur.fetchall()) == {"souq_sa": "10"}  # absent elsewhere: dbt's default applies
