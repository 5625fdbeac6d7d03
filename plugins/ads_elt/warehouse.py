"""Warehouse DDL owned by the pipeline: the `raw` and `ops` schemas.

dbt owns `staging`, `intermediate` and `marts`; the pipeline owns what it
writes before and after dbt. `ensure_schema` is idempotent and runs at the
start of every DAG run (and in the demo and tests).
"""

from __future__ import annotations

from psycopg2 import sql

RAW_COLUMNS = """
    workspace_id text not null,
    account_id text not null,
    report_date date,
    payload jsonb not null,
    sync_run_id text not null,
    window_start date not null,
    window_end date not null,
    extracted_at timestamptz not null
"""

# One raw table per platform report: (platform, report) -> table name in schema raw.
RAW_TABLES: dict[tuple[str, str], str] = {
    ("meta", "insights"): "meta__insights",
    ("google_ads", "campaign_performance"): "google_ads__campaign_performance",
}

OPS_DDL = """
create schema if not exists ops;

create table if not exists ops.sync_state (
    platform text not null,
    workspace_id text not null,
    account_id text not null,
    last_success_window_start date,
    last_success_window_end date,
    last_attempt_at timestamptz,
    status text not null default 'never_synced',
    last_error text,
    updated_at timestamptz not null default now(),
    primary key (platform, workspace_id, account_id)
);

create table if not exists ops.sync_runs (
    sync_run_id text not null,
    platform text not null,
    workspace_id text not null,
    account_id text not null,
    window_start date not null,
    window_end date not null,
    status text not null,
    row_count integer,
    error text,
    started_at timestamptz not null default now(),
    finished_at timestamptz,
    primary key (sync_run_id, platform, workspace_id, account_id)
);

create table if not exists ops.quarantine (
    id bigserial primary key,
    platform text not null,
    report text not null,
    workspace_id text,
    account_id text,
    sync_run_id text,
    source text,
    line_number integer,
    reason text not null,
    payload text,
    quarantined_at timestamptz not null default now()
);

create table if not exists ops.workspace_accounts (
    workspace_id text not null,
    platform text not null,
    account_id text not null,
    account_name text,
    currency text not null,
    timezone text not null,
    reporting_currency text not null,
    primary key (workspace_id, platform, account_id)
);

create table if not exists ops.alert_log (
    alert_key text primary key,
    workspace_id text not null,
    platform text,
    entity_id text,
    metric text not null,
    date_day date not null,
    severity text not null,
    message text not null,
    channel text,
    status text not null default 'pending',
    first_seen_at timestamptz not null default now(),
    sent_at timestamptz
);
"""


def raw_table_ddl(table: str) -> sql.Composed:
    ident = sql.Identifier("raw", table)
    return sql.SQL(
        "create table if not exists {} ({});"
        "create index if not exists {} on {} (workspace_id, account_id, report_date);"
    ).format(
        ident,
        sql.SQL(RAW_COLUMNS),
        sql.Identifier(f"{table}__account_date_idx"),
        ident,
    )


def ensure_schema(conn) -> None:
    """Create the raw and ops schemas and tables if missing (idempotent)."""
    with conn.cursor() as cur:
        cur.execute("select pg_advisory_xact_lock(hashtext('ads_elt.ensure_schema'))")
        cur.execute("create schema if not exists raw")
        for table in RAW_TABLES.values():
            cur.execute(raw_table_ddl(table))
        cur.execute(OPS_DDL)
    conn.commit()
