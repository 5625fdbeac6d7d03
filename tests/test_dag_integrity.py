"""Every DAG imports cleanly, parses fast, and carries owner, tags, retries and a failure callback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from stack import airflow_env, ensure_manifest  # noqa: E402

PROBE = r"""
import json, time
t0 = time.perf_counter()
from airflow.models.dagbag import DagBag
bag = DagBag(dag_folder=__import__("os").environ["AIRFLOW__CORE__DAGS_FOLDER"])
out = {"import_errors": {k: str(v) for k, v in bag.import_errors.items()}, "dags": {}}
for dag_id, dag in bag.dags.items():
    tasks = {}
    for t in dag.tasks:
        tasks[t.task_id] = {
            "owner": t.owner, "retries": t.retries,
            "has_failure_callback": bool(t.on_failure_callback),
            "upstream": sorted(t.upstream_task_ids),
            "mapped_group": getattr(t.get_closest_mapped_task_group(), "group_id", None),
            "dbt_select": getattr(t, "select", None), "dbt_exclude": getattr(t, "exclude", None),
            "dbt_indirect_selection": getattr(t, "indirect_selection", None),
            "dbt_global_flags": getattr(t, "dbt_cmd_global_flags", None),
            "outlets": sorted(a.name for a in t.outlets),
        }
    out["dags"][dag_id] = {
        "tags": sorted(dag.tags), "tasks": tasks,
        "dag_failure_callback": bool(dag.on_failure_callback),
        "fileloc": dag.fileloc,
    }
t1 = time.perf_counter()
for path in sorted(set(d["fileloc"] for d in out["dags"].values())):
    bag2 = DagBag(dag_folder=path)
out["parse_seconds"] = time.perf_counter() - t1
print("@@" + json.dumps(out))
"""


@pytest.fixture(scope="module")
def dagbag(tmp_path_factory):
    home = tmp_path_factory.mktemp("airflow")
    env = {**os.environ, **airflow_env(home, home / "lake")}
    ensure_manifest(env)
    proc = subprocess.run([sys.executable, "-c", PROBE], env=env, capture_output=True, text=True, cwd=REPO)
    line = [x for x in proc.stdout.splitlines() if x.startswith("@@")]
    assert line, proc.stdout[-3000:] + proc.stderr[-3000:]
    return json.loads(line[-1][2:])


def test_no_import_errors(dagbag):
    assert dagbag["import_errors"] == {}
    assert "ads_daily" in dagbag["dags"]


def test_dags_parse_in_under_a_second(dagbag):
    # Parsing renders the dbt tasks from the compiled manifest: no dbt call, no network, no database.
    assert dagbag["parse_seconds"] < 1.0


def test_every_dag_has_owner_tags_retries_and_failure_callback(dagbag):
    for dag_id, dag in dagbag["dags"].items():
        assert dag["tags"], dag_id
        assert dag["dag_failure_callback"], dag_id
        for task_id, t in dag["tasks"].items():
            assert t["owner"] and t["owner"] != "airflow", (dag_id, task_id)
            assert t["has_failure_callback"], (dag_id, task_id)
            assert t["retries"] >= 1, (dag_id, task_id)


def manifest_models() -> tuple[dict[str, dict], dict[str, list[str]]]:
    manifest = json.loads((REPO / "dbt_project" / "target" / "manifest.json").read_text())
    return {uid: n for uid, n in manifest["nodes"].items() if n["resource_type"] == "model"}, manifest["child_map"]


def test_views_are_one_task_and_each_mart_its_own(dagbag):
    """`dbt.views` builds every view upstream of the marts; each mart (and each view built on one) is a task."""
    tasks = dagbag["dags"]["ads_daily"]["tasks"]
    views = tasks["dbt.views"]
    assert views["dbt_select"] == "resource_type:seed path:models/staging path:models/intermediate"
    assert views["dbt_exclude"] == "path:models/marts+"
    assert views["dbt_indirect_selection"] == "cautious"  # a test spanning a mart runs beside the mart
    models, children = manifest_models()
    downstream_of_marts = set()
    todo = [uid for uid, n in models.items() if n["path"].startswith("marts/")]
    while todo:
        uid = todo.pop()
        if uid in downstream_of_marts:
            continue
        downstream_of_marts.add(uid)
        todo += [c for c in children.get(uid, []) if c in models]
    model_tasks = {t: v for t, v in tasks.items() if t.startswith("dbt.") and t.endswith("_model_build")}
    for uid, node in models.items():
        built_by = [t for t, v in model_tasks.items() if v["dbt_select"] == ".".join(["fqn:" + node["fqn"][0], *node["fqn"][1:]])]
        if "rollup" in node["tags"] or "stream" in node["tags"]:  # built in dbt.rollups, or by ads_stream
            assert not built_by, node["name"]
        elif uid in downstream_of_marts:
            assert built_by == [f"dbt.{node['name']}_model_build"], node["name"]
        else:
            assert node["path"].split("/")[0] in ("staging", "intermediate") and not built_by, node["name"]
    for model in ("fct_ad_performance_daily", "mart_campaign_kpis_daily", "mart_anomalies", "mart_alerts"):
        assert f"dbt.{model}_model_build" in tasks
    # Every mart task waits for the views, directly or through another mart.
    roots = [t for t, v in model_tasks.items() if not any(u.startswith("dbt.") for u in v["upstream"])]
    assert roots == []
    assert tasks["dbt.views"]["upstream"] == ["transform_gate"]
    # The tests over a mart and other models run once every mart is built, in one task; each task runs only
    # the tests whose parents it builds (an eager selection would run them before the other parent is built).
    checks = tasks["dbt.cross_model_tests"]
    leaves = {t for t in model_tasks if not any(t in v["upstream"] for v in model_tasks.values())}
    assert leaves and leaves <= set(checks["upstream"])
    assert {"assert_fct_spend_reconciles_to_staging", "assert_fine_grain_facts_reconcile_to_campaigns"} <= set(checks["dbt_select"].split())
    assert {v["dbt_indirect_selection"] for t, v in tasks.items() if t.startswith("dbt.")} == {"cautious"}
    # each task's dbt runs in a throwaway copy of the project: the JSON artifacts it would write are never read
    assert {tuple(v["dbt_global_flags"]) for t, v in tasks.items() if t.startswith("dbt.")} == {("--no-write-json",)}
    rollups = tasks["dbt.rollups"]
    assert rollups["dbt_select"] == "tag:rollup"
    assert rollups["upstream"] == ["dbt.fct_ad_performance_daily_model_build"] and "dbt.rollups" in checks["upstream"]
    rolled = {n["name"] for n in models.values() if "rollup" in n["tags"]}
    assert {"mart_account_kpis_daily", "mart_platform_kpis_daily", "mart_restatements"} <= rolled
    # a rollup reads only the fact (and other rollups): nothing built in its own task waits for it
    for uid, node in models.items():
        if "rollup" in node["tags"]:
            parents = [p for p in node["depends_on"]["nodes"] if p in models and "rollup" not in models[p]["tags"]]
            assert all(models[p]["name"] == "fct_ad_performance_daily" for p in parents), node["name"]
            assert all("rollup" in models[c]["tags"] for c in children.get(uid, []) if c in models), node["name"]


def test_each_platform_and_store_has_its_task_group(dagbag):
    tasks = dagbag["dags"]["ads_daily"]["tasks"]
    for platform in ("meta", "google_ads", "tiktok", "snapchat", "linkedin", "amazon_ads", "file_drop", "shopify", "woocommerce", "salla", "zid"):
        assert f"{platform}.plan" in tasks


@pytest.mark.parametrize("platform", ["meta", "google_ads", "tiktok", "snapchat", "linkedin", "amazon_ads", "file_drop"])
def test_each_account_is_extracted_and_loaded_as_a_mapped_pair(dagbag, platform):
    # A mapped group per account: one account's failed extract holds back only its own load.
    tasks = dagbag["dags"]["ads_daily"]["tasks"]
    extract, load = tasks[f"{platform}.account.extract"], tasks[f"{platform}.account.load"]
    assert extract["mapped_group"] == load["mapped_group"] == f"{platform}.account"
    assert load["upstream"] == [f"{platform}.account.extract"]
    assert f"{platform}.extract" not in tasks and f"{platform}.load" not in tasks


def test_a_run_reports_on_the_day_before_its_logical_date_or_else_its_trigger():
    from datetime import UTC, date, datetime
    from types import SimpleNamespace

    from dags.ads_daily import _report_date

    scheduled = datetime(2026, 11, 21, 6, tzinfo=UTC)
    assert _report_date(scheduled, SimpleNamespace(run_after=scheduled)) == date(2026, 11, 20)
    # Triggered on Dec 6 for the logical date Nov 21 (its data interval ends on Dec 6): Nov 20, not Dec 5.
    triggered = datetime(2026, 12, 6, 19, 25, tzinfo=UTC)
    assert _report_date(datetime(2026, 11, 21, tzinfo=UTC), SimpleNamespace(run_after=triggered)) == date(2026, 11, 20)
    # Airflow 3: a manual run without a logical date reports on the day before it was triggered.
    assert _report_date(None, SimpleNamespace(run_after=triggered)) == date(2026, 12, 5)
    with pytest.raises(ValueError, match="no report date"):
        _report_date(None, None)


def test_the_stream_dag_drains_then_builds_then_alerts(dagbag):
    """ads_stream: drain the queue, build the stream's models, then the intraday alerts; its marts are in no ads_daily task."""
    tasks = dagbag["dags"]["ads_stream"]["tasks"]
    assert set(tasks) == {"drain", "dbt", "intraday_alerts"}
    assert tasks["dbt"]["upstream"] == ["drain"] and tasks["intraday_alerts"]["upstream"] == ["dbt"]
    models, _ = manifest_models()
    streamed = {n["name"] for n in models.values() if "stream" in n["tags"]}
    assert streamed == {"fct_ad_performance_hourly", "mart_stream_reconciliation", "mart_intraday_alerts"}
    daily = dagbag["dags"]["ads_daily"]["tasks"]
    assert not [t for t in daily if any(name in t for name in streamed)]
    assert not [n for n in daily["dbt.cross_model_tests"]["dbt_select"].split() if "stream" in n or "intraday" in n]


def test_loads_and_dbt_tasks_name_the_tables_they_write_as_assets(dagbag):
    """Each platform's load: its raw tables (from the catalogue); each mart task: its relation; the stream's too."""
    from adapters import PLATFORMS
    from adapters.amazon_ads.stream import RAW_TABLES as STREAM_TABLES
    from ads_elt.warehouse import raw_tables

    tasks = dagbag["dags"]["ads_daily"]["tasks"]
    for platform in PLATFORMS:
        want = sorted(f"raw.{table}" for (p, _), table in raw_tables().items() if p == platform)
        assert want and tasks[f"{platform}.account.load"]["outlets"] == want, platform
    assert len({a for t in tasks.values() for a in t["outlets"] if a.startswith("raw.")}) == len(raw_tables())
    models, _ = manifest_models()
    for node in models.values():
        relation = f"{node['schema']}.{node['alias']}"
        task = tasks.get(f"dbt.{node['name']}_model_build")
        if task is not None:
            assert task["outlets"] == [relation], node["name"]
        elif "rollup" in node["tags"]:
            assert relation in tasks["dbt.rollups"]["outlets"], node["name"]
    assert {"marts.mart_alerts", "marts.mart_campaign_kpis_daily"} <= {a for t in tasks.values() for a in t["outlets"]}
    stream = dagbag["dags"]["ads_stream"]["tasks"]
    assert stream["drain"]["outlets"] == sorted(f"raw.{t}" for t in STREAM_TABLES.values())
    assert stream["dbt"]["outlets"] == sorted(
        f"{n['schema']}.{n['alias']}" for n in models.values() if "stream" in n["tags"]
    )
