"""The warehouse's Airflow Connections reach libpq whole: host, login and the extras (sslmode and friends), for
the pipeline's psycopg2 connections, the reporting service and dbt."""

from __future__ import annotations

import json
import subprocess

import psycopg2
import pytest

from ads_elt.warehouse import db, dbt_cli


@pytest.fixture
def connections(pg_server, monkeypatch):
    dbname = pg_server.create_database("extras")
    base = {"conn_type": "postgres", "host": "127.0.0.1", "port": pg_server.port, "schema": dbname, "login": "postgres", "password": pg_server.password}

    def define(extra: dict) -> None:
        monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE", json.dumps({**base, "extra": extra}))
        # a role Connection with only its login, as docs/operating.md describes them
        monkeypatch.setenv("AIRFLOW_CONN_WAREHOUSE_LOADER", json.dumps({"conn_type": "postgres", "login": "postgres", "password": pg_server.password}))

    return define


def test_sslmode_and_other_libpq_extras_reach_every_connection_and_dbt(connections):
    connections({"sslmode": "require", "connect_timeout": "7", "not_libpq": "x"})
    dsn = db.warehouse_dsn()
    assert "sslmode='require'" in dsn and "connect_timeout='7'" in dsn and "not_libpq" not in dsn
    # The test cluster has no SSL: a DSN that asks for it is refused, so the extra really reaches libpq.
    with pytest.raises(psycopg2.OperationalError, match="does not support SSL"):
        psycopg2.connect(dsn)
    # A role Connection without extras takes the server's from `warehouse`.
    assert "sslmode='require'" in db.warehouse_dsn(db.ROLE_CONNECTIONS[db.LOADER])
    env = dbt_cli.dbt_env()
    assert env["DBT_SSLMODE"] == "require"
    debug = subprocess.run(
        [dbt_cli.dbt_executable(), "debug", "--project-dir", str(dbt_cli.DBT_DIR), "--profiles-dir", str(dbt_cli.DBT_DIR)],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert debug.returncode != 0 and "does not support SSL" in debug.stdout, debug.stdout[-2000:]


def test_without_extras_libpq_defaults_apply_and_the_warehouse_answers(connections):
    connections({"sslmode": "disable"})
    with db.connect(role=db.LOADER) as conn, conn.cursor() as cur:
        cur.execute("select current_setting('application_name'), not ssl from pg_stat_ssl where pid = pg_backend_pid()")
        assert cur.fetchone() == ("ads_elt", True)
    connections({})
    assert "sslmode" not in db.warehouse_dsn()
    assert dbt_cli.dbt_env()["DBT_SSLMODE"] == "prefer"  # libpq's own default
