from ads_elt.warehouse import ensure_schema, raw_tables


def test_ensure_schema_is_idempotent_and_creates_raw_and_ops(pg_conn):
    ensure_schema(pg_conn)
    ensure_schema(pg_conn)
    with pg_conn.cursor() as cur:
        cur.execute(
            "select table_schema || '.' || table_name from information_schema.tables "
            "where table_schema in ('raw', 'ops') order by 1"
        )
        tables = {r[0] for r in cur.fetchall()}
    assert {f"raw.{t}" for t in raw_tables().values()} <= tables
    assert {"ops.sync_state", "ops.sync_runs", "ops.quarantine", "ops.alert_log"} <= tables
