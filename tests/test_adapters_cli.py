"""``python -m adapters``: every report of the catalogue pulled by hand, with the Connection the DAG reads.

The command builds each client with the platform's own ``build_client`` from ``AIRFLOW_CONN_<ID>``
and fetches with the report's own ``fetch``, so here every account of the demo registry, on every
one of its platform's reports, is pulled from the sandbox with the Connections the demo stack
gives Airflow. A platform whose spec, Connection or client drifted apart fails here.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from sandbox_clients import DEMO_END
from stack import platform_connections_env

import adapters
from adapters.catalogue import SettingsError
from adapters.cli import connection_from_env, main
from ads_elt.registry.core import load_registry

REPO = Path(__file__).resolve().parents[1]
SINCE = DEMO_END - timedelta(days=2)
WINDOW = ["--since", SINCE.isoformat(), "--until", DEMO_END.isoformat()]


def run(capsys, argv: list[str], environ: dict) -> tuple[int, dict | None, str]:
    code = main(argv, environ)
    out, err = capsys.readouterr()
    return code, (json.loads(out) if code == 0 and out.startswith("{") else None), err


def test_every_report_of_every_fetched_platform_is_pulled_by_hand_with_the_demo_connections(sandbox, tmp_path, capsys):
    environ = platform_connections_env(sandbox.url, sandbox.credentials, report_poll_seconds=0.01)
    registry = load_registry(REPO / "config" / "workspaces.yml")
    pulled = set()
    for name, spec in adapters.PLATFORMS.items():
        if spec.build_client is None:
            continue
        account = registry.accounts(name)[0]  # the demo registry has every fetched platform
        options = ["--account", account.account_id, "--conn-id", account.connection, *WINDOW]
        if spec.store:
            options += ["--timezone", account.timezone]
        for report in spec.reports():
            out = tmp_path / name / report.report
            code, summary, err = run(capsys, [name, "--report", report.report, *options, "--out", str(out)], environ)
            assert code == 0, (name, report.report, err)
            assert summary["records"] > 0 and summary["pages"] >= 1, (name, report.report)
            assert len(list(out.glob("page-*.json"))) == summary["pages"]
            if report.entity_list:
                assert summary["records_per_day"] == {"undated": summary["records"]} and summary["first_day"] is None
            elif spec.store:  # Salla and Zid list by creation day, from before the window (the loader keeps its days)
                assert summary["last_day"] <= DEMO_END.isoformat()
                assert any(SINCE.isoformat() <= day <= DEMO_END.isoformat() for day in summary["records_per_day"])
            else:
                assert SINCE.isoformat() <= summary["first_day"] <= summary["last_day"] <= DEMO_END.isoformat()
            written = (out / "request.json").read_text()
            for secret in sandbox.credentials[name].values():
                assert str(secret) not in written, (name, report.report)
            pulled.add((name, report.report))
    # Without --report, the platform's first report.
    code, summary, _ = run(capsys, ["meta", "--account", "act_1000000001", *WINDOW], environ)
    assert code == 0 and summary["records"] == 9 and "written_to" not in summary
    assert {n for n, _ in pulled} == {n for n, s in adapters.PLATFORMS.items() if s.build_client is not None}
    assert len(pulled) == sum(len(s.reports()) for s in adapters.PLATFORMS.values() if s.build_client is not None)


def test_bad_settings_stop_before_any_request_and_are_named_without_their_values(sandbox, capsys):
    token = sandbox.credentials["meta"]["access_token"]
    meta = json.dumps({"conn_type": "http", "host": sandbox.meta_url, "password": token})
    cases = [
        (
            ["meta", "--account", "1000000001", "--conn-id", "meta_eu"],
            {},
            "no Connection 'meta_eu': set AIRFLOW_CONN_META_EU (JSON or a URI, as for Airflow)",
        ),
        (
            ["meta", "--account", "1000000001"],
            {"AIRFLOW_CONN_META_DEFAULT": "{" + token},
            "AIRFLOW_CONN_META_DEFAULT is not valid JSON",
        ),
        (
            ["meta", "--account", "1000000001", "--conn-id", "meta_bare"],
            {"AIRFLOW_CONN_META_BARE": json.dumps({"host": sandbox.meta_url})},
            "Connection 'meta_bare' (AIRFLOW_CONN_META_BARE) has no password (the access token)",
        ),
        (
            ["meta", "--account", "1000000001", "--report", "hourly"],
            {},
            "meta: no report 'hourly' (known: insights, adset_insights, ad_insights)",
        ),
        (["snapchat", "--account", "12345"], {}, "snapchat: account '12345' does not match"),
        (["shopify", "--account", "northwind-outdoor", "--conn-id", "shopify_northwind"], {}, "--timezone is required"),
        (
            ["salla", "--account", "1456832901", "--timezone", "Mars/Olympus"],
            {},
            "--timezone 'Mars/Olympus' is not an IANA time zone",
        ),
        (["file_drop", "--account", "northwind_csv"], {}, "file_drop is read from files, not fetched"),
    ]
    for argv, environ, message in cases:
        code, _, err = run(capsys, [*argv, *WINDOW], {"AIRFLOW_CONN_META_DEFAULT": meta, **environ})
        assert code == 1 and message in err, (argv, err)
        assert token not in err
    assert sum(sandbox.platform_api("meta").calls.values()) == 0  # nothing was asked of the platform
    # A token the platform rejects: the adapter's error, exit 2, and the token is not repeated.
    rejected = json.dumps({"host": sandbox.meta_url, "password": "EAABnotvalid0000"})
    code, _, err = run(capsys, ["meta", "--account", "1000000001", *WINDOW], {"AIRFLOW_CONN_META_DEFAULT": rejected})
    assert code == 2 and err.startswith("ReauthRequiredError") and "EAABnotvalid0000" not in err


def test_a_connection_reads_in_either_of_airflows_forms():
    as_json = connection_from_env(
        "zid_souq",
        {
            "AIRFLOW_CONN_ZID_SOUQ": json.dumps(
                {
                    "conn_type": "http",
                    "host": "https://api.zid.sa",
                    "port": "8443",
                    "login": "",
                    "password": "mgr",
                    "extra": '{"authorization": "a b"}',
                }
            )
        },
    )
    assert (as_json.host, as_json.port, as_json.login, as_json.password, dict(as_json.extra)) == (
        "https://api.zid.sa",
        8443,
        "",
        "mgr",
        {"authorization": "a b"},
    )
    assert as_json.base_url() == "https://api.zid.sa:8443"
    as_uri = connection_from_env(
        "google_ads_default",
        {
            "AIRFLOW_CONN_GOOGLE_ADS_DEFAULT": "http://client%40id:re%2Ffresh@https%3A%2F%2F127.0.0.1%3A9%2Fgoogle_ads"
            "?__extra__=%7B%22developer_token%22%3A+%22dev%22%7D"
        },
    )
    assert (as_uri.host, as_uri.port, as_uri.login, as_uri.password, dict(as_uri.extra)) == (
        "https://127.0.0.1:9/google_ads",
        None,
        "client@id",
        "re/fresh",
        {"developer_token": "dev"},
    )
    plain = connection_from_env("m", {"AIRFLOW_CONN_M": "http://:tok@graph.example.test:8080?api_version=v20.0"})
    assert (plain.base_url(), plain.password, dict(plain.extra)) == (
        "https://graph.example.test:8080",
        "tok",
        {"api_version": "v20.0"},
    )
    for value, message in (
        ("not a connection", "neither JSON nor a URI"),
        ('{"host": ', "not valid JSON"),
        ('{"port": "x"}', "port is not a number"),
    ):
        with pytest.raises(SettingsError, match=message):
            connection_from_env("m", {"AIRFLOW_CONN_M": value})


def test_the_command_lists_the_catalogue_and_runs_as_a_module():
    listing = subprocess.run(
        [sys.executable, "-m", "adapters", "--list"], cwd=REPO, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    for name, spec in adapters.PLATFORMS.items():
        assert f"{name} ({spec.label}): {', '.join(r.report for r in spec.reports())}" in listing.replace(" (entity list)", "")
    assert "Connection: meta_default, host https://graph.facebook.com" in listing
    assert "required: host, password, extra.authorization" in listing  # Zid's
    usage = subprocess.run(
        [sys.executable, "-m", "adapters", "meta", *WINDOW], cwd=REPO, capture_output=True, text=True, timeout=60, check=False
    )
    assert usage.returncode == 2 and "PLATFORM and --account are required" in usage.stderr
