#!/usr/bin/env bash
# First start of the metadata Postgres only: Metabase's application database.
set -euo pipefail

psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname "$POSTGRES_DB" \
    -v mb_password="$METABASE_DB_PASSWORD" <<'SQL'
create role metabase login password :'mb_password';
create database metabase owner metabase;
SQL
