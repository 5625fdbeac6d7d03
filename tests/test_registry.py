from datetime import date

import pytest
import yaml

from ads_elt.registry import DEFAULT_REGISTRY, RegistryError, load_registry, parse_registry, sync_window


def demo_data():
    return yaml.safe_load(DEFAULT_REGISTRY.read_text())


def test_demo_registry_is_valid_and_covers_four_currencies_and_time_zones():
    reg = load_registry(DEFAULT_REGISTRY)
    assert len(reg.workspaces) == 4
    assert {w.currency for w in reg.workspaces} == {"USD", "EUR", "GBP", "SAR"}
    assert len({w.timezone for w in reg.workspaces}) == 4
    platforms = {w.id: {a.platform for a in w.accounts} for w in reg.workspaces}
    assert platforms == {
        "northwind_us": {"meta", "google_ads", "tiktok", "amazon_ads"},
        "lumen_eu": {"meta", "google_ads", "linkedin"},
        "harbor_uk": {"snapchat", "file_drop"},
        "souq_sa": {"snapchat", "tiktok"},
    }
    stores = {w.id: {(s.platform, s.account_id, s.currency) for s in w.stores} for w in reg.workspaces}
    assert stores == {
        "northwind_us": {("shopify", "northwind-outdoor", "USD")},
        "lumen_eu": {("woocommerce", "lumen-home", "EUR")},
        "harbor_uk": {("shopify", "harbor-tea", "GBP")},
        "souq_sa": {("salla", "1456832901", "SAR"), ("zid", "38211", "AED")},
    }
    assert {a.lookback_days for a in reg.accounts("meta")} == {28}
    assert {a.lookback_days for a in reg.accounts("google_ads")} == {14}


@pytest.mark.parametrize(
    "mutate, where, problem",
    [
        (lambda d: d["workspaces"][1]["accounts"][0].update(platform="metaa"), "workspaces[1].accounts[0].platform", "not one of"),
        (lambda d: d["workspaces"][0].update(currency="usd"), "workspaces[0].currency", "does not match"),
        (lambda d: d["workspaces"][0].update(timezone="Mars/Olympus"), "workspaces[0].timezone", "unknown time zone"),
        (lambda d: d["workspaces"][0]["accounts"][1].pop("account_id"), "workspaces[0].accounts[1].account_id", "missing"),
        (lambda d: d["workspaces"][1].update(id="northwind_us"), "workspaces[1].id", "duplicate"),
        (lambda d: d["workspaces"][0]["accounts"][0].update(lookback_days=400), "workspaces[0].accounts[0].lookback_days", "from 0 to 90"),
        (lambda d: d["workspaces"][0].update(dashboard_url="http://x/{nope}"), "workspaces[0].dashboard_url", "{nope}"),
        (lambda d: d["workspaces"][0]["accounts"][0].update(access_token="abc"), "workspaces[0].accounts[0].access_token", "unknown field"),
        (lambda d: d["workspaces"][1]["accounts"][0].update(account_id="1000000001"), "workspaces[1].accounts[0].account_id", "already listed"),
    ],
)
def test_bad_registry_names_the_field(mutate, where, problem):
    data = demo_data()
    mutate(data)
    with pytest.raises(RegistryError) as err:
        parse_registry(data, "workspaces.yml")
    assert f"workspaces.yml: {where}:" in str(err.value)
    assert problem in str(err.value)


def test_invalid_yaml_names_the_line(tmp_path):
    p = tmp_path / "bad.yml"
    p.write_text("version: 1\nworkspaces:\n  - id: [unclosed\n")
    with pytest.raises(RegistryError, match=r"bad.yml: not valid YAML at line \d+"):
        load_registry(p)


def test_sync_window_first_sync_then_lookback_then_catch_up():
    acc = load_registry(DEFAULT_REGISTRY).accounts("google_ads")[0]
    run = date(2026, 11, 20)
    assert sync_window(acc, run, None, 90) == (date(2026, 8, 23), run)  # 90 days inclusive
    assert sync_window(acc, run, date(2026, 11, 19), 90) == (date(2026, 11, 5), run)  # 14-day lookback
    # three failed days: the window reaches back from the last good day, not from today
    assert sync_window(acc, run, date(2026, 11, 16), 90) == (date(2026, 11, 2), run)
