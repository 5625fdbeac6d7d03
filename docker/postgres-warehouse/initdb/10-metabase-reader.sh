#!/usr/bin/env bash
# First start of the warehouse only: a read-only login for Metabase that sees
# the marts (now and every table dbt creates there later), nothing else.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v owner="$POSTGRES_USER" \
    -v dbname="$POSTGRES_DB" \
    -v reader="${METABASE_READER_USER:-metabase_reader}" \
    -v reader_password="$METABASE_READER_PASSWORD" <<'SQL'
create role :"reader" login password :'reader_password';
revoke all on database :"dbname" from public;
grant connect on database :"dbname" to :"reader";
create schema if not exists marts authorization :"owner";
grant usage on schema marts to :"reader";
grant select on all tables in schema marts to :"reader";
alter default privileges for role :"owner" in schema marts grant select on tables to :"reader";
SQL
