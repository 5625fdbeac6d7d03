import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
import yaml

from ads_elt.registry import DEFAULT_REGISTRY, RegistryError, load_registry, parse_registry, sync_window

REPO = Path(__file__).resolve().parents[1]


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
    # northwind's ACOS target is for its Amazon Ads campaigns only (mirrored for dbt as one setting)
    northwind = next(w for w in reg.workspaces if w.id == "northwind_us").alerting.settings()
    assert northwind["rule.acos_above.platforms"] == "amazon_ads" and northwind["rule.acos_above.threshold"] == "0.35"


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
        (
            lambda d: d["workspaces"][0]["rules"]["acos_above"].update(platforms=["amazon_ad"]),
            "workspaces[0].rules.acos_above.platforms[0]",
            "unknown ad platform 'amazon_ad' (did you mean 'amazon_ads'?)",
        ),
        (lambda d: d["workspaces"][0]["rules"]["acos_above"].update(platforms="meta"), "workspaces[0].rules.acos_above.platforms", "a non-empty list"),
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


def test_every_problem_is_reported_at_once_with_the_nearest_valid_name():
    data = demo_data()
    data["workspaces"][0]["accounts"][1]["platform"] = "gogle_ads"
    data["workspaces"][1]["currency"] = "eur"
    data["workspaces"][2]["timezone"] = "Europe/Londn"
    with pytest.raises(RegistryError) as err:
        parse_registry(data, "workspaces.yml")
    assert len(err.value.problems) == 3, err.value.problems
    text = str(err.value)
    assert text.startswith("workspaces.yml: 3 problems:")
    assert "workspaces.yml: workspaces[0].accounts[1].platform: 'gogle_ads' is not one of" in text
    assert "(did you mean 'google_ads'?)" in text
    assert "workspaces.yml: workspaces[1].currency: 'eur' does not match" in text
    assert "workspaces.yml: workspaces[2].timezone: unknown time zone 'Europe/Londn'" in text


def test_account_ids_are_taken_as_the_platforms_show_them():
    data = demo_data()
    google = next(a for a in data["workspaces"][0]["accounts"] if a["platform"] == "google_ads")
    meta = next(a for a in data["workspaces"][0]["accounts"] if a["platform"] == "meta")
    google["account_id"], meta["account_id"] = "123-456-7890", "act_1000000001"
    reg = parse_registry(data, "workspaces.yml")
    ids = {a.platform: a.account_id for a in reg.workspace("northwind_us").accounts}
    assert ids["google_ads"] == "1234567890" and ids["meta"] == "1000000001"
    google["account_id"] = "123-4567-890"  # not the UI's shape: refused, not guessed
    with pytest.raises(RegistryError, match=r"accounts\[\d\]\.account_id: '123-4567-890' does not match"):
        parse_registry(data, "workspaces.yml")


def check_command(path, **connections) -> subprocess.CompletedProcess:
    """`python -m ads_elt.registry check PATH` with only the given Airflow Connections defined (as env vars)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AIRFLOW_CONN_")}
    env.update({f"AIRFLOW_CONN_{c.upper()}": json.dumps({"conn_type": "http", "host": "https://example.test"}) for c in connections})
    env.update(PYTHONPATH=os.pathsep.join([str(REPO), str(REPO / "plugins")]), AIRFLOW_HOME=str(path.parent / "airflow"))
    return subprocess.run(
        [sys.executable, "-m", "ads_elt.registry", "check", str(path)], env=env, capture_output=True, text=True, timeout=120
    )


def test_check_lists_every_problem_of_a_file_without_a_run(tmp_path):
    data = demo_data()
    data["workspaces"][0]["accounts"][1]["platform"] = "gogle_ads"
    data["workspaces"][1]["currency"] = "eur"
    data["workspaces"][3]["stores"][0]["platform"] = "sallah"
    path = tmp_path / "workspaces.yml"
    path.write_text(yaml.safe_dump(data))
    result = check_command(path)
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if line.startswith("error: ")]
    assert len(errors) == 3, result.stdout
    assert "workspaces[0].accounts[1].platform" in errors[0] and "did you mean 'google_ads'" in errors[0]
    assert "workspaces[1].currency" in errors[1]
    assert "workspaces[3].stores[0].platform" in errors[2] and "did you mean 'salla'" in errors[2]


def test_check_finds_the_connections_airflow_does_not_have(tmp_path):
    from ads_elt.registry import named_connections

    data = demo_data()
    data["workspaces"][0]["accounts"][0]["connection"] = "meta_defualt"
    path = tmp_path / "workspaces.yml"
    path.write_text(yaml.safe_dump(data))
    every = {conn_id for _, conn_id, required in named_connections(parse_registry(data)) if required}
    defined = sorted(every - {"meta_defualt", "zid_souq"}) + ["meta_default"]
    result = check_command(path, **dict.fromkeys(defined, True))
    assert result.returncode == 1, result.stdout + result.stderr
    errors = [line for line in result.stdout.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2, result.stdout
    assert "workspaces[0].accounts[0].connection: Airflow Connection 'meta_defualt' does not exist (did you mean 'meta_default'?)" in errors[0]
    assert "workspaces[3].stores[1].connection: Airflow Connection 'zid_souq' does not exist" in errors[1]
    # An alert channel without its Connection is a warning: its alerts go to the task log.
    assert any(line.startswith("warning: ") and "slack_alerts" in line for line in result.stdout.splitlines())
    defined.append("zid_souq")
    data["workspaces"][0]["accounts"][0]["connection"] = "meta_default"
    path.write_text(yaml.safe_dump(data))
    result = check_command(path, **dict.fromkeys(defined, True))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "valid" in result.stdout.splitlines()[-1]


def test_planned_changes_are_read_checked_and_mirrored_for_dbt(pg_conn):
    from ads_elt.alerts import mirror_workspace_settings
    from ads_elt.warehouse import ensure_schema

    data = demo_data()
    data["workspaces"][0]["planned_changes"] = [
        {"kind": "budget_step", "start": date(2026, 11, 27), "end": "2026-11-30", "platform": "meta", "campaign_id": 23850000001, "note": "BFCM\n budget"},
        {"kind": "promotion", "start": "2026-12-01"},
    ]
    reg = parse_registry(data, "workspaces.yml")
    step, promo = reg.workspaces[0].alerting.planned_changes
    assert (step.kind, step.start, step.end, step.platform, step.campaign_id, step.settle_days, step.note) == (
        "budget_step", date(2026, 11, 27), date(2026, 11, 30), "meta", "23850000001", 14, "BFCM budget"
    )  # fmt: skip
    assert (promo.start, promo.end, promo.platform, promo.settle_days) == (date(2026, 12, 1), date(2026, 12, 1), None, 0)
    ensure_schema(pg_conn)
    with pg_conn.cursor() as cur:
        mirror_workspace_settings(cur, reg)
        mirror_workspace_settings(cur, reg)  # replaced in full: running twice keeps one row per change
        cur.execute("select workspace_id, kind, platform, campaign_id, start_date, end_date, settle_days from ops.planned_changes order by kind")
        assert cur.fetchall() == [
            ("northwind_us", "budget_step", "meta", "23850000001", date(2026, 11, 27), date(2026, 11, 30), 14),
            ("northwind_us", "promotion", None, None, date(2026, 12, 1), date(2026, 12, 1), 0),
        ]

    data["workspaces"][1]["planned_changes"] = [
        {"kind": "budget_stepp", "start": "2026-11-27"},
        {"kind": "launch", "start": "2026-11-27", "end": "2026-11-20"},
        {"kind": "pause", "start": "27/11/2026", "campaign_id": "1"},
    ]
    with pytest.raises(RegistryError) as err:
        parse_registry(data, "workspaces.yml")
    text = str(err.value)
    assert "workspaces[1].planned_changes[0].kind: 'budget_stepp' is not one of" in text and "did you mean 'budget_step'" in text
    assert "workspaces[1].planned_changes[1].end: 2026-11-20 is before start 2026-11-27" in text
    assert "workspaces[1].planned_changes[2].start: expected a date YYYY-MM-DD, got '27/11/2026'" in text
    assert "workspaces[1].planned_changes[2].platform: required when campaign_id is set" in text
