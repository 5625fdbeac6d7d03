"""Warehouse roles against a real Postgres: loader writes raw/ops only, transformer builds dbt schemas, analyst reads marts only."""

from __future__ import annotations

import psycopg2
import pytest
from psycopg2 import errors
from stack import WAREHOUSE_ROLES, role_password

from ads_elt.warehouse import ensure_schema
from ads_elt.warehouse.roles import ANALYST, API, LOADER, TRANSFORMER, RoleLogin, ensure_roles


@pytest.fixture
def roles_db(pg_server):
    dbname = pg_server.create_database("roles")
    logins = {role: RoleLogin(role, name, role_password(pg_server.password, role)) for role, name in WAREHOUSE_ROLES.items()}
    admin = psycopg2.connect(pg_server.dsn(dbname))
    ensure_schema(admin)
    assert ensure_roles(admin, logins) == sorted(f"{r}={n}" for r, n in WAREHOUSE_ROLES.items())
    ensure_roles(admin, logins)  # idempotent
    admin.close()

    def connect(role):
        login = logins[role]
        conn = psycopg2.connect(
            host="127.0.0.1", port=pg_server.port, dbname=dbname, user=login.name, password=login.password
        )
        conn.autocommit = True
        return conn

    yield connect


def run(conn, sql, params=()):
    with conn.cursor() as cur:
        cur.execute(sql, params)
        return cur.fetchall() if cur.description else None


def test_the_analyst_reads_marts_and_is_refused_on_raw_and_ops(roles_db):
    transformer = roles_db(TRANSFORMER)
    run(transformer, "create table marts.kpis as select 1 as roas")  # as dbt would
    analyst = roles_db(ANALYST)
    assert run(analyst, "select roas from marts.kpis") == [(1,)]
    for table in ("raw.meta__insights", "ops.sync_state", "ops.alert_log", "ops.quarantine"):
        with pytest.raises(errors.InsufficientPrivilege):
            run(analyst, f"select * from {table}")
    with pytest.raises(errors.InsufficientPrivilege):
        run(analyst, "insert into marts.kpis values (2)")


def test_the_reporting_service_reads_marts_and_changes_only_alert_states_and_its_tokens(roles_db):
    run(roles_db(TRANSFORMER), "create table marts.kpis as select 1 as roas")  # as dbt would
    run(
        roles_db(LOADER),
        "insert into ops.alert_log (alert_key, workspace_id, metric, date_day, severity, message) "
        "values ('k', 'w', 'ctr', '2026-11-20', 'warning', 'CTR fell')",
    )
    api = roles_db(API)
    assert run(api, "select roas from marts.kpis") == [(1,)]
    assert run(api, "select count(*) from ops.sync_state") == [(0,)]
    run(api, "update ops.alert_log set state = 'acknowledged', state_changed_by = 'ana' where alert_key = 'k'")
    run(api, "insert into ops.api_tokens (token_id, token_sha256, workspace_id) values ('t', 'h', 'w')")
    for statement in (
        "update ops.alert_log set message = 'changed', status = 'sent' where alert_key = 'k'",
        "delete from ops.alert_log",
        "select * from ops.quarantine",
        "select * from raw.meta__insights",
        "insert into marts.kpis values (2)",
        "delete from ops.api_tokens",
    ):
        with pytest.raises(errors.InsufficientPrivilege):
            run(api, statement)
    assert run(roles_db(LOADER), "select state, message from ops.alert_log") == [("acknowledged", "CTR fell")]


def test_the_loader_writes_raw_and_ops_only(roles_db):
    loader = roles_db(LOADER)
    run(
        loader,
        "insert into raw.meta__insights (workspace_id, account_id, report_date, payload, sync_run_id, window_start, "
        "window_end, extracted_at) values ('w', '1', '2026-11-20', '{}', 'r', '2026-11-20', '2026-11-20', now())",
    )
    run(loader, "insert into ops.quarantine (platform, report, reason) values ('meta', 'insights', 'test')")
    run(loader, "delete from raw.meta__insights")
    run(roles_db(TRANSFORMER), "create table marts.kpis as select 1 as roas")
    with pytest.raises(errors.InsufficientPrivilege):
        run(loader, "select * from marts.kpis")
    with pytest.raises(errors.InsufficientPrivilege):
        run(loader, "create table marts.other (x int)")


def test_the_transformer_reads_raw_but_cannot_write_it(roles_db):
    transformer = roles_db(TRANSFORMER)
    assert run(transformer, "select count(*) from raw.meta__insights") == [(0,)]
    assert run(transformer, "select count(*) from ops.workspace_accounts") == [(0,)]
    with pytest.raises(errors.InsufficientPrivilege):
        run(transformer, "delete from raw.meta__insights")
    run(transformer, "create table staging.x as select 1 as y")
    run(transformer, "drop table staging.x")
