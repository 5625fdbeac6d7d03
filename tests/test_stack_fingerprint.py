"""`make demo` rebuilds a warehouse in full when the dbt project changed since its last run."""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "scripts"))

from stack import dbt_project_fingerprint  # noqa: E402


def test_the_fingerprint_moves_with_models_macros_and_seeds_only(tmp_path):
    project = tmp_path / "dbt_project"
    shutil.copytree(REPO / "dbt_project", project, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    before = dbt_project_fingerprint(project)
    assert dbt_project_fingerprint(project) == before  # stable
    (project / "target").mkdir(exist_ok=True)
    (project / "target" / "manifest.json").write_text("{}")
    assert dbt_project_fingerprint(project) == before  # build output is not the project
    for changed in ("models/marts/mart_anomalies.sql", "macros/incremental.sql", "seeds/fx_rates.csv"):
        path = project / changed
        original = path.read_text()
        path.write_text(original + "\n-- changed\n" if changed.endswith(".sql") else original + "\n")
        assert dbt_project_fingerprint(project) != before, changed
        path.write_text(original)
    assert dbt_project_fingerprint(project) == before
