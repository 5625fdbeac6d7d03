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


def raw_tables() -> dict[tuple[str, str], str]:
    """One raw table per platform report, from the platform catalogue: (platform, report) -> table in schema raw.

    Store orders: one row per order version as the store sent it; report_date is the day (store local
    time) the order was last updated, so a re-pull by update time replaces that window.
    """
    from adapters import PLATFORMS

    return {(name, r.report): spec.raw_table(r.report) for name, spec in PLATFORMS.items() for r in spec.reports()}


def raw_table(platform: str, report: str) -> str:
    """The raw table of one platform report (``KeyError`` for a report the catalogue does not know)."""
    from adapters import PLATFORMS

    return PLATFORMS[platform].raw_table(report)

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

-- File drops: each file loaded once per account, by content hash (ads_elt.ingestion.file_drop).
create table if not exists ops.file_drop_files (
    content_sha256 text not null,
    workspace_id text not null,
    account_id text not null,
    file_name text not null,
    status text not null,
    rows_loaded integer not null default 0,
    rows_quarantined integer not null default 0,
    reason text,
    sync_run_id text,
    loaded_at timestamptz not null default now(),
    primary key (workspace_id, account_id, content_sha256)
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

-- Alerting: what kind of alert a row is, how bad (for suppression), why it was held back.
alter table ops.alert_log add column if not exists entity_type text;
alter table ops.alert_log add column if not exists source text;
alter table ops.alert_log add column if not exists score double precision;
alter table ops.alert_log add column if not exists suppressed_by text;
alter table ops.alert_log add column if not exists chart_path text;

-- What people did with an alert (ads_elt.alerts.states): open, acknowledged, snoozed until a day, resolved.
-- alert_id = md5(alert_key), as marts.mart_alerts.alert_id.
alter table ops.alert_log add column if not exists alert_id text generated always as (md5(alert_key)) stored;
alter table ops.alert_log add column if not exists state text not null default 'open';
alter table ops.alert_log add column if not exists state_until date;
alter table ops.alert_log add column if not exists state_changed_at timestamptz;
alter table ops.alert_log add column if not exists state_changed_by text;
create index if not exists alert_log_series on ops.alert_log (workspace_id, platform, entity_id, metric, date_day);
create index if not exists alert_log_alert_id on ops.alert_log (alert_id text_pattern_ops);

-- One row per alert and channel it reached, so a failing channel never re-sends the others.
create table if not exists ops.alert_deliveries (
    alert_key text not null,
    channel text not null,
    delivered_at timestamptz not null default now(),
    primary key (alert_key, channel)
);

-- The registry's alerting, anomaly, rule and budget settings per workspace, mirrored for dbt
-- (`setting` -> text `value`; dbt falls back to its vars and seeds where a setting is absent).
create table if not exists ops.workspace_settings (
    workspace_id text not null,
    setting text not null,
    value text not null,
    primary key (workspace_id, setting)
);

-- What each workspace plans (registry `planned_changes`): the alerts a change explains are not sent.
create table if not exists ops.planned_changes (
    workspace_id text not null,
    change_id text not null,
    kind text not null,
    platform text,
    campaign_id text,
    start_date date not null,
    end_date date not null,
    settle_days integer not null default 0,
    note text,
    primary key (workspace_id, change_id)
);

-- The reporting service's API tokens (api/): only a SHA-256 of each token is kept; workspace_id null = admin.
create table if not exists ops.api_tokens (
    token_id text primary key,
    token_sha256 text not null unique,
    workspace_id text,
    label text,
    created_at timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at timestamptz
);

-- Monthly budgets from the registry: per campaign (account currency) for pacing and recommendations.
create table if not exists ops.campaign_budgets (
    workspace_id text not null,
    platform text not null,
    campaign_id text not null,
    monthly_budget numeric not null,
    primary key (workspace_id, platform, campaign_id)
);
"""


# Sync state and quarantine details (added to existing warehouses in place).
SYNC_DDL = """
alter table ops.sync_state add column if not exists failing_since timestamptz;
alter table ops.sync_state add column if not exists consecutive_failures integer not null default 0;
alter table ops.sync_runs add column if not exists rows_quarantined integer;
alter table ops.sync_runs add column if not exists issues text;
alter table ops.quarantine add column if not exists check_name text;
alter table ops.quarantine add column if not exists report_date date;
-- Account lifecycle: an account or store removed from the registry stays, inactive (ads_elt.ingestion.pipeline.mirror_accounts).
alter table ops.workspace_accounts add column if not exists active boolean not null default true;
alter table ops.workspace_accounts add column if not exists deactivated_at timestamptz;
-- How the platform attributes the conversions loaded for the account (adapters: each platform's ATTRIBUTION).
alter table ops.workspace_accounts add column if not exists attribution_window text;
create index if not exists quarantine__account_idx on ops.quarantine (platform, workspace_id, account_id, quarantined_at);
"""


def stream_table_ddl() -> str:
    """Amazon Marketing Stream's raw tables: one row per distinct record (``idempotency_id``), typed.

    Unlike the report tables (one JSON payload per row, replaced by window), a stream record is
    never replaced: a redelivered record is the same ``idempotency_id`` and is ignored, a later
    record for the same hour and key is a delta that adds (adapters.amazon_ads.stream).
    ``workspace_id``/``account_id`` (the registry's profile) are null for an advertiser that is no
    registry Amazon Ads profile: kept, not lost, and left out by staging.
    """
    from adapters.amazon_ads.stream import DESCRIPTIVE_COLUMNS, METRICS, RAW_TABLES

    out = []
    for dataset, table in RAW_TABLES.items():
        metrics = ",\n".join(f"    {name} {'bigint' if kind is int else 'numeric'}" for name, kind in METRICS[dataset].items())
        keys = ",\n".join(f"    {name} text" for name in DESCRIPTIVE_COLUMNS)
        out.append(
            f"""create table if not exists raw.{table} (
    idempotency_id text primary key,
    message_id text not null,
    workspace_id text,
    account_id text,
    time_window_start timestamptz not null,
    campaign_id text not null,
{keys},
{metrics},
    record jsonb not null,
    stream_run_id text not null,
    received_at timestamptz not null default now()
);
create index if not exists {table}__account_hour_idx on raw.{table} (workspace_id, account_id, time_window_start);
create index if not exists {table}__received_idx on raw.{table} (received_at);"""
        )
    return "\n".join(out)


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
        for table in raw_tables().values():
            cur.execute(raw_table_ddl(table))
        cur.execute(stream_table_ddl())
        cur.execute(OPS_DDL)
        cur.execute(SYNC_DDL)
    conn.commit()
