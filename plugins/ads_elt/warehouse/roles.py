"""Warehouse roles: who may touch what. Created and granted by `prepare` (idempotent).

| role (Connection)                        | may                                                                  |
|------------------------------------------|----------------------------------------------------------------------|
| loader (`warehouse_loader`)              | read and write `raw` and `ops`; read the dbt check results (`dq`)     |
| transformer (`warehouse_transformer`)    | read `raw` and `ops`; own and build `staging`, `intermediate`, `marts`, `seeds`, `dq` (dbt) |
| analyst (`warehouse_analyst`)            | read `marts`, nothing else                                           |
| api (`warehouse_api`)                    | the reporting service (`api/`): read `marts`; read `ops.sync_state`, `ops.workspace_accounts`, `ops.alert_log`; set an alert's state (its four state columns only); keep `ops.api_tokens` |

The role names and passwords are the login and password of those Airflow
Connections (host, port and database may be left empty: they default to the
`warehouse` Connection's). A Connection that is not defined means its role is
not managed, and the pipeline uses the `warehouse` Connection for that work.
The `warehouse` Connection is the administrator that creates schemas, tables
and these roles; it needs CREATEROLE.

Every statement is built with quoted identifiers and bound values.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from psycopg2 import sql

from ads_elt.warehouse.db import ANALYST, API, LOADER, ROLE_CONNECTIONS, TRANSFORMER, connection_or_none

log = logging.getLogger(__name__)

PIPELINE_SCHEMAS = ("raw", "ops")
DBT_SCHEMAS = ("staging", "intermediate", "marts", "seeds", "dq", "analytics", "snapshots")
ANALYST_SCHEMAS = ("marts",)
# What the reporting service may do in `ops` beyond reading the marts: (table, privileges, columns or None).
API_OPS_GRANTS = (
    ("sync_state", "select", None),
    ("workspace_accounts", "select", None),
    ("alert_log", "select", None),
    ("alert_log", "update", ("state", "state_until", "state_changed_at", "state_changed_by")),
    ("api_tokens", "select, insert, update", None),
)


@dataclass(frozen=True)
class RoleLogin:
    role: str  # loader | transformer | analyst
    name: str  # the Postgres role name (the Connection's login)
    password: str


def role_logins() -> dict[str, RoleLogin]:
    """The managed roles: those whose Connection is defined (login and password)."""
    out = {}
    for role, conn_id in ROLE_CONNECTIONS.items():
        c = connection_or_none(conn_id)
        if c is None:
            continue
        if not c.login or not c.password:
            raise ValueError(f"Airflow Connection {conn_id!r} needs a login and a password for the {role} role")
        out[role] = RoleLogin(role, c.login, c.password)
    return out


def _ident(*parts: str) -> sql.Identifier:
    return sql.Identifier(*parts)


def _upsert_login(cur, login: RoleLogin) -> None:
    cur.execute("select 1 from pg_roles where rolname = %s", (login.name,))
    verb = "alter" if cur.fetchone() else "create"
    cur.execute(
        sql.SQL(verb + " role {} with login nosuperuser nocreatedb nocreaterole password %s").format(_ident(login.name)),
        (login.password,),
    )


def _schemas(cur, names: tuple[str, ...], owner: str | None = None) -> None:
    for name in names:
        if owner:
            cur.execute(sql.SQL("create schema if not exists {} authorization {}").format(_ident(name), _ident(owner)))
            cur.execute(sql.SQL("alter schema {} owner to {}").format(_ident(name), _ident(owner)))
        else:
            cur.execute(sql.SQL("create schema if not exists {}").format(_ident(name)))


def _hand_over_relations(cur, schemas: tuple[str, ...], owner: str) -> None:
    """Tables and views dbt built earlier as another role now belong to the transformer (it replaces them)."""
    cur.execute(
        """
        select n.nspname, c.relname, c.relkind
        from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = any(%s) and c.relkind in ('r', 'v', 'm', 'p')
          and pg_get_userbyid(c.relowner) <> %s
        """,
        (list(schemas), owner),
    )
    kinds = {"r": "table", "p": "table", "v": "view", "m": "materialized view"}
    for schema, name, kind in cur.fetchall():
        cur.execute(sql.SQL("alter " + kinds[kind] + " {} owner to {}").format(_ident(schema, name), _ident(owner)))


def ensure_roles(conn, logins: dict[str, RoleLogin]) -> list[str]:
    """Create or update the managed roles and their grants in the connected database. Returns the roles managed."""
    if not logins:
        return []
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext('ads_elt.ensure_roles'))")
        cur.execute("select current_database(), current_user")
        database, admin = cur.fetchone()
        for login in logins.values():
            _upsert_login(cur, login)
            cur.execute(sql.SQL("grant connect, temporary on database {} to {}").format(_ident(database), _ident(login.name)))
        _schemas(cur, PIPELINE_SCHEMAS)
        loader = logins.get(LOADER)
        transformer = logins.get(TRANSFORMER)
        analyst = logins.get(ANALYST)
        api = logins.get(API)
        dbt_owner = transformer.name if transformer else admin
        _schemas(cur, DBT_SCHEMAS, owner=dbt_owner)
        if transformer:
            cur.execute(sql.SQL("grant create on database {} to {}").format(_ident(database), _ident(transformer.name)))
            _hand_over_relations(cur, DBT_SCHEMAS, transformer.name)
        for schema in PIPELINE_SCHEMAS:
            s = _ident(schema)
            if loader:
                who = _ident(loader.name)
                cur.execute(sql.SQL("grant usage on schema {} to {}").format(s, who))
                cur.execute(sql.SQL("grant select, insert, update, delete on all tables in schema {} to {}").format(s, who))
                cur.execute(sql.SQL("grant usage, select on all sequences in schema {} to {}").format(s, who))
                cur.execute(
                    sql.SQL("alter default privileges in schema {} grant select, insert, update, delete on tables to {}").format(s, who)
                )
                cur.execute(sql.SQL("alter default privileges in schema {} grant usage, select on sequences to {}").format(s, who))
            if transformer:
                who = _ident(transformer.name)
                cur.execute(sql.SQL("grant usage on schema {} to {}").format(s, who))
                cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(s, who))
                cur.execute(sql.SQL("alter default privileges in schema {} grant select on tables to {}").format(s, who))
            for reader in (analyst, api):  # never: an analyst reads marts only, the service what API_OPS_GRANTS says
                if reader:
                    cur.execute(sql.SQL("revoke all on all tables in schema {} from {}").format(s, _ident(reader.name)))
                    cur.execute(sql.SQL("revoke all on schema {} from {}").format(s, _ident(reader.name)))
        if loader:  # the consistency checks' results, for the alerts they raise
            cur.execute(sql.SQL("grant usage on schema {} to {}").format(_ident("dq"), _ident(loader.name)))
            cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(_ident("dq"), _ident(loader.name)))
            cur.execute(
                sql.SQL("alter default privileges for role {} in schema {} grant select on tables to {}").format(
                    _ident(dbt_owner), _ident("dq"), _ident(loader.name)
                )
            )
        for reader in (analyst, api):
            if not reader:
                continue
            for schema in ANALYST_SCHEMAS:
                s, who = _ident(schema), _ident(reader.name)
                cur.execute(sql.SQL("grant usage on schema {} to {}").format(s, who))
                cur.execute(sql.SQL("grant select on all tables in schema {} to {}").format(s, who))
                cur.execute(
                    sql.SQL("alter default privileges for role {} in schema {} grant select on tables to {}").format(
                        _ident(dbt_owner), s, who
                    )
                )
        if api:
            who = _ident(api.name)
            cur.execute(sql.SQL("grant usage on schema {} to {}").format(_ident("ops"), who))
            for table, privileges, columns in API_OPS_GRANTS:
                cols = sql.SQL(" ({})").format(sql.SQL(", ").join(map(_ident, columns))) if columns else sql.SQL("")
                cur.execute(
                    sql.SQL("grant " + privileges + "{} on {} to {}").format(cols, _ident("ops", table), who)
                )
    conn.commit()
    managed = sorted(f"{login.role}={login.name}" for login in logins.values())
    log.info("warehouse roles ensured: %s", ", ".join(managed))
    return managed
