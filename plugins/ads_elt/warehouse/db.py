"""Warehouse connections from Airflow Connections (or a DSN).

``connect()`` is the administrator (Connection `warehouse`: DDL, roles).
``connect(role="loader")`` is the pipeline's raw/ops writer: Connection
`warehouse_loader` when it is defined (see ``ads_elt.warehouse.roles``), `warehouse`
otherwise. A role Connection may hold only login and password; host, port and
database then come from `warehouse`.

A Connection's extras that are libpq settings (``LIBPQ_EXTRAS``: ``sslmode``,
the certificate paths, ``connect_timeout``, ``options``, ...) go into the DSN as
PostgresHook hands them to psycopg2; a role Connection without them takes the
`warehouse` Connection's (they describe the server, not the login). dbt gets
the same ``sslmode`` (``ads_elt.warehouse.dbt_cli.dbt_env``; Cosmos maps it itself).
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2

WAREHOUSE_CONN_ID = os.environ.get("ADS_ELT_WAREHOUSE_CONN_ID", "warehouse")


# The warehouse roles and the Connection each one's work uses (ads_elt.warehouse.roles creates and grants them).
LOADER, TRANSFORMER, ANALYST, API = "loader", "transformer", "analyst", "api"
ROLE_CONNECTIONS = {
    LOADER: os.environ.get("ADS_ELT_LOADER_CONN_ID", "warehouse_loader"),
    TRANSFORMER: os.environ.get("ADS_ELT_TRANSFORMER_CONN_ID", "warehouse_transformer"),
    ANALYST: os.environ.get("ADS_ELT_ANALYST_CONN_ID", "warehouse_analyst"),
    API: os.environ.get("ADS_ELT_API_CONN_ID", "warehouse_api"),
}


def connection_or_none(conn_id: str):
    """The Airflow Connection ``conn_id``, or None when it is not defined."""
    from airflow.sdk import BaseHook

    try:
        return BaseHook.get_connection(conn_id)
    except Exception:  # AirflowNotFoundException and friends
        return None


def role_conn_id(role: str | None) -> str:
    """The Connection a role's work uses: its own when defined, the administrator's otherwise."""
    if role is None:
        return WAREHOUSE_CONN_ID
    conn_id = ROLE_CONNECTIONS[role]
    return conn_id if connection_or_none(conn_id) is not None else WAREHOUSE_CONN_ID


def _quote(value: object) -> str:
    return "'" + str(value).replace("\\", "\\\\").replace("'", "\\'") + "'"


# The libpq connection settings a Connection's extras may carry (PostgresHook passes these to psycopg2).
LIBPQ_EXTRAS = (
    "sslmode", "sslrootcert", "sslcert", "sslkey", "sslcrl", "sslpassword", "connect_timeout", "options",
    "target_session_attrs", "keepalives", "keepalives_idle", "keepalives_interval", "keepalives_count", "application_name",
)  # fmt: skip


def connections(conn_id: str = WAREHOUSE_CONN_ID):
    """The Connection `conn_id` and the `warehouse` Connection it falls back to (the same one for `warehouse`)."""
    from airflow.sdk import BaseHook

    c = BaseHook.get_connection(conn_id)
    return c, (BaseHook.get_connection(WAREHOUSE_CONN_ID) if conn_id != WAREHOUSE_CONN_ID else c)


def libpq_extras(c, base) -> dict[str, str]:
    """The libpq settings among `c`'s extras, `base`'s (the warehouse's) where it has none."""

    def of(conn) -> dict[str, str]:
        return {k: str(v) for k, v in conn.extra_dejson.items() if k in LIBPQ_EXTRAS and v not in (None, "")}

    return of(c) or of(base)


def warehouse_dsn(conn_id: str = WAREHOUSE_CONN_ID) -> str:
    """Build a libpq DSN from an Airflow Connection (host, port, login, password, schema=database, libpq extras)."""
    c, base = connections(conn_id)
    parts = {
        "host": c.host or base.host or "127.0.0.1",
        "port": c.port or base.port or 5432,
        "dbname": c.schema or base.schema or "warehouse",
        "user": c.login or "postgres",
        "password": c.password or "",
        "application_name": "ads_elt",
        **libpq_extras(c, base),
    }
    return " ".join(f"{k}={_quote(v)}" for k, v in parts.items())


@contextmanager
def connect(dsn: str | None = None, role: str | None = None) -> Iterator[psycopg2.extensions.connection]:
    """A psycopg2 connection to the warehouse; closed on exit, rolled back on error."""
    conn = psycopg2.connect(dsn or warehouse_dsn(role_conn_id(role)))
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()
