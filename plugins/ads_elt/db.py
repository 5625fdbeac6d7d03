"""Warehouse connections from the Airflow Connection `warehouse` (or a DSN)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg2

WAREHOUSE_CONN_ID = os.environ.get("ADS_ELT_WAREHOUSE_CONN_ID", "warehouse")


def warehouse_dsn(conn_id: str = WAREHOUSE_CONN_ID) -> str:
    """Build a libpq DSN from an Airflow Connection (host, port, login, password, schema=database)."""
    from airflow.sdk import BaseHook

    c = BaseHook.get_connection(conn_id)
    parts = {
        "host": c.host or "127.0.0.1",
        "port": c.port or 5432,
        "dbname": c.schema or "warehouse",
        "user": c.login or "postgres",
        "password": c.password or "",
        "application_name": "ads_elt",
    }
    return " ".join(f"{k}='{str(v).replace(chr(39), chr(92) + chr(39))}'" for k, v in parts.items())


@contextmanager
def connect(dsn: str | None = None) -> Iterator[psycopg2.extensions.connection]:
    """A psycopg2 connection to the warehouse; closed on exit, rolled back on error."""
    conn = psycopg2.connect(dsn or warehouse_dsn())
    try:
        yield conn
    except BaseException:
        conn.rollback()
        raise
    finally:
        conn.close()
