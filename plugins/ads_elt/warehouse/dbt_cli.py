"""Running dbt outside astronomer-cosmos (fallback task, demo, tests).

The profile (`dbt_project/profiles.yml`) reads everything from environment
variables; `dbt_env` fills them from the warehouse Connection so credentials
stay in Airflow.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from ads_elt.registry import REPO_ROOT

DBT_DIR = Path(os.environ.get("ADS_ELT_DBT_DIR", REPO_ROOT / "dbt_project"))


def dbt_executable() -> str:
    return os.environ.get("ADS_ELT_DBT_BIN") or shutil.which("dbt") or str(Path(sys.executable).with_name("dbt"))


def dbt_env(conn_id: str | None = None) -> dict[str, str]:
    from ads_elt.warehouse.db import WAREHOUSE_CONN_ID, connections, libpq_extras

    c, base = connections(conn_id or WAREHOUSE_CONN_ID)
    return {
        **os.environ,
        "DBT_HOST": c.host or "127.0.0.1",
        "DBT_PORT": str(c.port or 5432),
        "DBT_USER": c.login or "postgres",
        "DBT_PASSWORD": c.password or "",
        "DBT_DBNAME": c.schema or "warehouse",
        "DBT_SSLMODE": libpq_extras(c, base).get("sslmode", "prefer"),
    }


def run(args: list[str], env: dict[str, str] | None = None) -> None:
    cmd = [dbt_executable(), *args, "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
    subprocess.run(cmd, env=env if env is not None else dbt_env(), check=True)


def build(extra: list[str] | None = None) -> None:
    run(["build", *(extra or [])])
