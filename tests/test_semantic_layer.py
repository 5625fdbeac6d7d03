"""The semantic layer (MetricFlow, dbt_project/models/marts/_semantic.yml) answers what the marts hold: every metric
at day x platform equals `mart_platform_kpis_daily`, MER and blended ROAS at day x workspace equal
`mart_workspace_kpis_daily`, on the demo world's warehouse after its first run (the reporting service's copy)."""

from __future__ import annotations

import csv
import math
import subprocess
from datetime import timedelta

import pytest
from api_harness import REPO
from e2e_worlds import REPORT_DATE

pytestmark = [pytest.mark.e2e, pytest.mark.xdist_group("demo")]

AD_METRICS = ("spend", "impressions", "clicks", "conversions", "conversion_value", "roas", "cpa", "ctr", "cvr", "cpc", "cpm", "acos")
FROM = REPORT_DATE - timedelta(days=6)


def mf_query(api, tmp_path, metrics: tuple[str, ...], group_by: str) -> list[dict]:
    """`mf query` on this warehouse. MetricFlow reads `<project>/target/semantic_manifest.json`, whose relations name
    the database dbt parsed for: the project's files linked into a folder of its own, parsed for this database."""
    from stack import dbt_cli_env, venv_bin

    project = tmp_path / "project"
    project.mkdir()
    for item in (REPO / "dbt_project").iterdir():
        if item.name not in ("target", "logs", "dbt_packages"):
            (project / item.name).symlink_to(item)
    out = tmp_path / "result.csv"
    env = {**api.env, **dbt_cli_env(api.env_port, api.env_password, api.dbname)}
    parsed = subprocess.run(
        [venv_bin("dbt"), "parse", "--quiet", "--project-dir", str(project), "--profiles-dir", str(project)],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert parsed.returncode == 0, parsed.stdout[-3000:]
    where = f"{{{{ TimeDimension('metric_time', 'day') }}}} >= '{FROM}' and {{{{ TimeDimension('metric_time', 'day') }}}} <= '{REPORT_DATE}'"
    done = subprocess.run(
        [venv_bin("mf"), "query", "--metrics", ",".join(metrics), "--group-by", group_by, "--where", where, "--csv", str(out)],
        cwd=project, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0 and out.exists(), done.stdout[-3000:] + done.stderr[-3000:]
    with open(out, newline="") as f:
        return list(csv.DictReader(f))


def close(a, b) -> bool:
    if a in (None, "") or b is None:
        return a in (None, "") and b is None
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-9)


@pytest.fixture
def api(reporting_api, demo):
    reporting_api.env_port, reporting_api.env_password = demo.stack.pg_server.port, demo.stack.pg_server.password
    return reporting_api


def test_every_ad_metric_at_day_and_platform_equals_the_platform_mart(api, tmp_path):
    rows = mf_query(api, tmp_path, AD_METRICS, "metric_time__day,workspace,ad_performance__platform")
    got = {(r["metric_time__day"][:10], r["workspace"], r["ad_performance__platform"]): r for r in rows}
    mart = api.query(
        f"select date_day::text, workspace_id, platform, {', '.join(AD_METRICS)} from marts.mart_platform_kpis_daily "
        "where date_day between %s and %s",
        (FROM, REPORT_DATE),
    )
    assert len(mart) >= 7 * 4 and set(got) == {m[:3] for m in mart}
    for m in mart:
        r = got[m[:3]]
        for name, value in zip(AD_METRICS, m[3:], strict=True):
            assert close(r[name], value), (m[:3], name, r[name], value)


def test_mer_and_blended_roas_at_day_and_workspace_equal_the_workspace_mart(api, tmp_path):
    rows = mf_query(api, tmp_path, ("spend", "store_revenue", "mer", "blended_roas"), "metric_time__day,workspace")
    got = {(r["metric_time__day"][:10], r["workspace"]): r for r in rows}
    mart = api.query(
        "select date_day::text, workspace_id, spend, store_revenue, blended_roas from marts.mart_workspace_kpis_daily "
        "where platform = 'all' and date_day between %s and %s and store_revenue > 0",
        (FROM, REPORT_DATE),
    )
    assert len(mart) >= 7 * 4
    for day, ws, spend, revenue, blended in mart:
        r = got[(day, ws)]
        assert close(r["spend"], spend) and close(r["store_revenue"], revenue)
        assert close(r["mer"], blended) and close(r["blended_roas"], blended)
