"""A platform is one unit, end to end: a fake ad platform added in its own folders runs through the real DAG.

The repository is copied as it is (tracked and new files); into the copy go only the fake's three parts and
its two registrations:

- its adapter package, ``adapters/fakeads/`` (its ``SPEC``, a client over the product's ``HttpClient``);
- its sandbox module, ``sandbox/platforms/fakeads.py`` (its route, credentials, Connection and traits);
- its staging folder, ``dbt_project/models/staging/fakeads/`` (source, YAML, one ``stage_performance`` call);
- a workspace with a Fake Ads account in the registry, and its campaign-day model in dbt's
  ``ad_performance_models`` (dbt knows a model's refs only from what it reads while parsing).

Then ``airflow dags test ads_daily`` runs in the copy against the test cluster and the copy's sandbox,
and the fake's numbers must come out of the canonical fact and the KPI mart exactly as the fake served
them, with a spend spike on the report day alerted under the fake's own label.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml
from e2e_harness import Warehouse
from e2e_worlds import REPORT_DATE

REPO = Path(__file__).resolve().parents[1]
ACCOUNT = "4200000001"
WORKSPACE = "fake_ws"
HISTORY_DAYS = 35

ADAPTER = '''
"""Fake Ads: a platform that exists only in a test. ``GET {base}/v1/stats``, header ``X-Api-Key``."""

import json
from datetime import date

from adapters.base import Page
from adapters.catalogue import ConnectionConvention, FieldSpec, PlatformSpec, Report, metric_fields
from adapters.http import HttpClient


def parse_page(body):
    return json.loads(body)["rows"]


def report_date(record):
    return date.fromisoformat(record["day"])


class FakeAdsClient:
    def __init__(self, base_url, api_key):
        self.base_url, self._key = base_url.rstrip("/"), api_key
        self.http = HttpClient("fakeads", secrets=[api_key])

    def stats(self, account_id, since, until):
        params = {"account": account_id, "since": since.isoformat(), "until": until.isoformat()}
        url = f"{self.base_url}/v1/stats"
        response = self.http.request(
            "GET", url, params=params, headers={"X-Api-Key": self._key}, context=f"fakeads stats for {account_id}", account_id=account_id
        )
        yield Page(response.content, parse_page(response.content), {"method": "GET", "url": url, "path": "/v1/stats", "params": params})


def fetch(client, account_id, since, until):
    return client.stats(account_id, since, until)


def build_client(settings):
    return FakeAdsClient(settings.base_url(), settings.require(settings.password, "password (the API key)"))


SPEC = PlatformSpec(
    name="fakeads",
    label="Fake Ads",
    order=35,
    primary=Report(
        "daily_stats",
        parse_page,
        report_date,
        fetch,
        fields=(FieldSpec("campaign_id", ("cid",), "text"), *metric_fields(("cost",), ("imps",), ("clicks",))),
    ),
    lookback_days=2,
    attribution="7-day click",
    connection=ConnectionConvention("https://api.fakeads.test", password="API key", required=("host", "password")),
    build_client=build_client,
)
'''

SANDBOX_MODULE = '''
"""Fake Ads over the world's fakeads accounts: ``GET /fakeads/v1/stats?account=&since=&until=``."""

import re
import secrets
from datetime import date

from sandbox.platforms.base import AdTraits, PlatformApi
from sandbox.wire import Response, Route

TRAITS = AdTraits(id_digits=10, utm_sources=(("fakeads", "cpc"),))


class FakeAdsApi(PlatformApi):
    platform = "fakeads"

    @staticmethod
    def new_credentials():
        return {"api_key": secrets.token_hex(16)}

    @classmethod
    def connection(cls, sandbox_url, creds, **options):
        return {"conn_type": "http", "host": f"{sandbox_url}/fakeads", "password": creds["api_key"]}

    def routes(self):
        return [Route("GET", re.compile(r"^/fakeads/v1/stats$"), "fakeads", "stats", self.stats)]

    def stats(self, request):
        self.count("stats")
        if not secrets.compare_digest(request.headers.get("x-api-key", ""), self.credentials["api_key"]):
            return Response.json(401, {"error": "invalid API key"})
        q = request.query
        if not self.world.has_account("fakeads", q.get("account", "")):
            return Response.json(404, {"error": "no such account"})
        since, until = date.fromisoformat(q["since"]), date.fromisoformat(q["until"])
        rows = self.world.truth_rows("fakeads", q["account"], since, until, as_of=self.today)
        return Response.json(200, {"rows": [
            {"cid": r["campaign_id"], "name": r["campaign_name"], "day": r["date"].isoformat(), "cost": round(r["spend"], 2),
             "imps": r["impressions"], "clicks": r["clicks"], "orders": r["conversions"], "sales": round(r["conversion_value"], 2)}
            for r in rows
        ]})


API = FakeAdsApi
'''

STAGING_MODEL = """
{{ stage_performance(
    source('fakeads', 'daily_stats'),
    platform='fakeads',
    entity_id='campaign_id',
    fields={
        'date_day': json_text('payload', 'day'),
        'campaign_id': json_text('payload', 'cid'),
        'campaign_name': json_text('payload', 'name'),
        'currency': none,
    },
    metrics=payload_metrics(['imps', 'clicks', 'cost', 'orders', 'sales']),
) }}
"""

STAGING_YAML = """
version: 2

sources:
  - name: fakeads
    schema: raw
    tables:
      - name: daily_stats
        identifier: fakeads__daily_stats

models:
  - name: stg_fakeads__daily_stats
    config:
      meta:
        ad_performance_grains: [campaign_day]
    description: Fake Ads campaign-days.
"""

DRIVER = r'''
"""Runs in the copy: the copy's end-to-end harness (tests/e2e_harness.py) with a Fake Ads world, on the test cluster."""
import json
import sys
from datetime import date, timedelta
from pathlib import Path

copy, home, cluster_root, registry = Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3]), sys.argv[4]
report, history, account_id, workspace_id = date.fromisoformat(sys.argv[5]), int(sys.argv[6]), sys.argv[7], sys.argv[8]
sys.path[:0] = [str(copy / "tests"), str(copy / "scripts"), str(copy), str(copy / "plugins")]

from conftest import PgServer
from e2e_harness import E2EStack
from localpg import Cluster
from sandbox.world import Account, Anomaly, Campaign, World

campaigns = (
    Campaign("880001", "Fake Prospecting", 300.0, 10.0, 0.012, 0.05, 60.0),
    Campaign("880002", "Fake Retargeting", 150.0, 14.0, 0.02, 0.08, 55.0),
)
account = Account("fakeads", account_id, workspace_id, "EUR", "Europe/Berlin", campaigns, "Fake Ads account")
world = World(
    [account],
    anomalies=[Anomaly("spend_spike", "fakeads", account_id, "880002", report)],
    start_date=report - timedelta(days=history - 1),
    end_date=report,
)
stack = E2EStack.start(PgServer(Cluster(cluster_root)), world, home, today=report + timedelta(days=1))
try:
    stack.env["ADS_ELT_REGISTRY"] = registry
    run = stack.run_dag(report)
    truth = world.truth_rows("fakeads", account_id, world.start_date, report, as_of=stack.sandbox.today)
    print("@@" + json.dumps({
        "returncode": run.returncode,
        "log": run.output,
        "dbname": stack.dbname,
        "served": stack.sandbox.platform_api("fakeads").calls["stats"],
        "truth": [{**r, "date": r["date"].isoformat()} for r in truth],
    }))
finally:
    stack.stop()
'''


def tracked_and_new_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=REPO, capture_output=True, check=True
    ).stdout.decode()
    return [f for f in out.split("\0") if f and (REPO / f).is_file()]


def copy_repository(target: Path) -> Path:
    for name in tracked_and_new_files():
        (target / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, target / name)
    (target / ".venv").symlink_to(REPO / ".venv")
    return target


def add_the_fake_platform(copy: Path) -> Path:
    """The fake's folders, its registry entry and its dbt registration; nothing else in the copy changes."""
    (copy / "adapters" / "fakeads").mkdir()
    (copy / "adapters" / "fakeads" / "__init__.py").write_text(textwrap.dedent(ADAPTER))
    (copy / "sandbox" / "platforms" / "fakeads.py").write_text(textwrap.dedent(SANDBOX_MODULE))
    staging = copy / "dbt_project" / "models" / "staging" / "fakeads"
    staging.mkdir()
    (staging / "stg_fakeads__daily_stats.sql").write_text(STAGING_MODEL.lstrip())
    (staging / "_fakeads__models.yml").write_text(STAGING_YAML.lstrip())

    project = copy / "dbt_project" / "dbt_project.yml"
    text = project.read_text()
    anchor = "  ad_performance_models:\n    campaign_day:\n"
    assert anchor in text
    project.write_text(text.replace(anchor, anchor + "      - stg_fakeads__daily_stats\n", 1))

    registry = copy / "config" / "fake_workspaces.yml"
    registry.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "defaults": {"initial_history_days": HISTORY_DAYS},
                "workspaces": [
                    {
                        "id": WORKSPACE,
                        "name": "Fake Workspace",
                        "currency": "EUR",
                        "timezone": "Europe/Berlin",
                        "accounts": [{"platform": "fakeads", "account_id": ACCOUNT, "connection": "fakeads_default"}],
                    }
                ],
            },
            sort_keys=False,
        )
    )
    return registry


@pytest.fixture(scope="module")
def fake_run(pg_server, tmp_path_factory):
    root = tmp_path_factory.mktemp("platform_unit")
    copy = copy_repository(root / "repo")
    registry = add_the_fake_platform(copy)
    (root / "driver.py").write_text(DRIVER)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    proc = subprocess.run(
        [
            sys.executable, str(root / "driver.py"), str(copy), str(root / "home"), str(pg_server.cluster.root), str(registry),
            REPORT_DATE.isoformat(), str(HISTORY_DAYS), ACCOUNT, WORKSPACE,
        ],
        cwd=copy, env=env, capture_output=True, text=True, timeout=1200,
    )  # fmt: skip
    lines = [x for x in proc.stdout.splitlines() if x.startswith("@@")]
    assert lines, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(lines[-1][2:])
    log, dbname = result.pop("log"), result.pop("dbname")
    return result, log, Warehouse(pg_server, dbname)


@pytest.mark.e2e
def test_a_platform_added_in_its_own_folders_runs_through_the_daily_dag(fake_run):
    result, log, warehouse = fake_run
    assert result["returncode"] == 0, log[-5000:]
    assert "fakeads.account.load" in log
    truth = {(r["campaign_id"], r["date"]): r for r in result["truth"]}
    assert len(truth) == 2 * HISTORY_DAYS

    raw = warehouse.query("select count(*), count(distinct report_date) from raw.fakeads__daily_stats")
    assert raw == [(2 * HISTORY_DAYS, HISTORY_DAYS)]

    fact = warehouse.query(
        "select campaign_id, date_day::text, campaign_name, spend, impressions, clicks, conversions, conversion_value, currency "
        "from marts.fct_ad_performance_daily where platform = 'fakeads' and workspace_id = 'fake_ws'",
    )
    assert len(fact) == len(truth)
    for campaign_id, day, name, spend, impressions, clicks, conversions, value, currency in fact:
        served = truth[(campaign_id, day)]
        assert name == served["campaign_name"] and currency == "EUR"  # the registry's currency: the fake sends none
        assert float(spend) == pytest.approx(round(served["spend"], 2), abs=0.005)
        assert (impressions, clicks) == (served["impressions"], served["clicks"])
        assert float(conversions) == pytest.approx(served["conversions"])
        assert float(value) == pytest.approx(round(served["conversion_value"], 2), abs=0.005)

    kpis = warehouse.query(
        "select count(*), count(distinct campaign_id) from marts.mart_campaign_kpis_daily where platform = 'fakeads'",
    )
    assert kpis == [(len(truth), 2)]


@pytest.mark.e2e
def test_the_fake_platforms_spend_spike_is_alerted_under_its_own_label(fake_run):
    result, log, warehouse = fake_run
    assert result["served"] > 0  # the adapter's client called the sandbox module's route with its key
    alerts = warehouse.query(
        f"select metric, message from ops.alert_log where platform = 'fakeads' and entity_id = '880002' and date_day = '{REPORT_DATE}'",
    )
    assert "spend" in {metric for metric, _ in alerts}, log[-3000:]
    assert all(message.startswith("Fake Workspace · Fake Ads · Fake Retargeting") for _, message in alerts), alerts
