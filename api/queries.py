"""What the service reads, one function per resource; every value is a bound parameter.

KPIs at each grain are the KPI marts as built (`mart_campaign_kpis_daily`,
`mart_account_kpis_daily`, `mart_platform_kpis_daily`, `mart_workspace_ad_kpis_daily`):
every ratio is computed once, in dbt, by the KPI macros. Campaign and account rows are
in the account's currency; platform and workspace rows in the workspace's reporting
currency, and the workspace grain carries the stores' revenue and blended ROAS from
`marts.mart_workspace_kpis_daily`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from psycopg2 import sql

GRAINS = ("campaign", "account", "platform", "workspace")
MEASURES = ("spend", "impressions", "clicks", "conversions", "conversion_value")
RATIOS = ("ctr", "cpc", "cpm", "cvr", "cpa", "roas", "acos")
WINDOWS = ("7d", "28d")  # the windows the API serves (the marts also have 30d, 90d and previous periods)
GRAIN_KEYS = {
    "account": ("platform", "account_id"),
    "platform": ("platform",),
    "workspace": (),
}
GRAIN_MARTS = {"account": "mart_account_kpis_daily", "platform": "mart_platform_kpis_daily", "workspace": "mart_workspace_ad_kpis_daily"}
STORE_COLUMNS = ("store_revenue", "blended_roas", "attributed_revenue", "attributed_roas")


def rows(cur) -> list[dict[str, Any]]:
    names = [d.name for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def workspaces(cur) -> list[str]:
    cur.execute("select distinct workspace_id from ops.workspace_accounts order by 1")
    return [r[0] for r in cur.fetchall()]


def workspace_exists(cur, workspace_id: str) -> bool:
    cur.execute("select 1 from ops.workspace_accounts where workspace_id = %s limit 1", (workspace_id,))
    return cur.fetchone() is not None


def latest_day(cur, workspace_id: str) -> date | None:
    cur.execute("select max(date_day) from marts.fct_ad_performance_daily where workspace_id = %s", (workspace_id,))
    return cur.fetchone()[0]


BUILD_KEY_SQL = "(select coalesce(max(finished_at)::text, 'never') || '/' || count(*) from marts.build_log)"


BUILD_LOG_EXISTS_SQL = "select to_regclass('marts.build_log') is not null"


def build_log_exists(cur) -> bool:
    cur.execute(BUILD_LOG_EXISTS_SQL)
    return cur.fetchone()[0]


def build_key(cur) -> str:
    """When the marts were last built (marts.build_log, written by dbt's on-run-end)."""
    if not build_log_exists(cur):
        return "never"
    cur.execute(f"select {BUILD_KEY_SQL}")
    return cur.fetchone()[0]


def request_view_query(token_sha256: str, workspace_id: str | None, with_build_log: bool) -> tuple[str, dict[str, Any]]:
    """What a request needs of the warehouse before its answer, in one round trip: the token's id and
    workspace (None, None when it is unknown or revoked), whether the path's workspace exists, and the
    build key. `with_build_log`: marts.build_log exists (until the first build it does not).

    A query and its parameters, for a cursor of either driver (the service reads it on the event loop)."""
    return (
        f"""
        select
            tokens.token_id,
            tokens.workspace_id,
            exists (select 1 from ops.workspace_accounts where workspace_id = %(ws)s),
            {BUILD_KEY_SQL if with_build_log else "'never'"}
        from (select 1) as one
        left join ops.api_tokens as tokens
            on tokens.token_sha256 = %(token)s and tokens.revoked_at is null
        """,
        {"token": token_sha256, "ws": workspace_id},
    )


def alerts_version(cur, workspace_id: str) -> str:
    cur.execute(
        "select coalesce(max(greatest(state_changed_at, first_seen_at, sent_at))::text, '') || '/' || count(*) "
        "from ops.alert_log where workspace_id = %s",
        (workspace_id,),
    )
    return cur.fetchone()[0]


def sync_version(cur, workspace_id: str) -> str:
    cur.execute("select coalesce(max(updated_at)::text, '') from ops.sync_state where workspace_id = %s", (workspace_id,))
    return cur.fetchone()[0]


CAMPAIGN_COLUMNS = (
    "date_day", "platform", "account_id", "campaign_id", "campaign_name", "currency",
    *MEASURES, *RATIOS,
    *(f"{m}_{s}" for s in WINDOWS for m in (*MEASURES, *RATIOS)),
)  # fmt: skip


CAMPAIGN_KEYS = ("date_day", "platform", "account_id", "campaign_id", "campaign_name", "currency")


def kpis(
    cur, workspace_id: str, grain: str, start: date, end: date, platform: str | None = None, campaign_id: str | None = None
) -> list[dict[str, Any]]:
    if grain == "campaign":
        cur.execute(
            sql.SQL(
                "select {cols} from marts.mart_campaign_kpis_daily where workspace_id = %s and date_day between %s and %s "
                "and (%s::text is null or platform = %s) and (%s::text is null or campaign_id = %s) "
                "order by date_day, platform, account_id, campaign_id"
            ).format(cols=sql.SQL(", ").join(map(sql.Identifier, CAMPAIGN_COLUMNS))),
            (workspace_id, start, end, platform, platform, campaign_id, campaign_id),
        )
        return rows(cur)
    keys = GRAIN_KEYS[grain]
    columns = ["date_day", *keys, "currency", *(c for c in CAMPAIGN_COLUMNS if c not in CAMPAIGN_KEYS)]
    # the workspace's total on one platform is that platform's row
    mart = GRAIN_MARTS["platform" if platform and grain == "workspace" else grain]
    where, params = [sql.SQL("workspace_id = %s"), sql.SQL("date_day between %s and %s")], [workspace_id, start, end]
    if platform:
        where.append(sql.SQL("platform = %s"))
        params.append(platform)
    cur.execute(
        sql.SQL("select {cols} from {mart} where {where} order by {order}").format(
            cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
            mart=sql.Identifier("marts", mart),
            where=sql.SQL(" and ").join(where),
            order=sql.SQL(", ").join(map(sql.Identifier, ("date_day", *keys))),
        ),
        params,
    )
    out = rows(cur)
    if grain == "workspace" and out:
        cur.execute(
            sql.SQL(
                "select date_day, {cols} from marts.mart_workspace_kpis_daily "
                "where workspace_id = %s and platform = 'all' and date_day between %s and %s"
            ).format(cols=sql.SQL(", ").join(map(sql.Identifier, STORE_COLUMNS))),
            (workspace_id, start, end),
        )
        stores = {r["date_day"]: r for r in rows(cur)}
        for r in out:
            r.update({k: stores.get(r["date_day"], {}).get(k) for k in STORE_COLUMNS})
    return out


def platform_series(cur, workspace_id: str, start: date, end: date) -> list[dict[str, Any]]:
    """Spend, platform revenue, store revenue, ROAS and blended ROAS per platform (and 'all') and day."""
    cur.execute(
        "select date_day, platform, reporting_currency, spend, platform_revenue, platform_roas, store_revenue, blended_roas "
        "from marts.mart_workspace_kpis_daily where workspace_id = %s and date_day between %s and %s "
        "order by platform, date_day",
        (workspace_id, start, end),
    )
    return rows(cur)


def campaigns(cur, workspace_id: str, day: date, platform: str | None = None) -> list[dict[str, Any]]:
    """Each campaign's last-28-day totals up to `day` (the workspace page's campaign table)."""
    cur.execute(
        "select distinct on (platform, account_id, campaign_id) platform, account_id, campaign_id, campaign_name, currency, "
        "spend_28d, conversions_28d, conversion_value_28d, roas_28d, cpa_28d, ctr_28d, date_day "
        "from marts.mart_campaign_kpis_daily where workspace_id = %s and date_day between %s and %s "
        "and (%s::text is null or platform = %s) "
        "order by platform, account_id, campaign_id, date_day desc",
        (workspace_id, day - timedelta(days=27), day, platform, platform),
    )
    out = rows(cur)
    out.sort(key=lambda r: -(float(r["spend_28d"] or 0)))
    return out


def campaign(cur, workspace_id: str, platform: str, campaign_id: str) -> dict[str, Any] | None:
    cur.execute(
        "select platform, account_id, campaign_id, max(campaign_name) as campaign_name, max(currency) as currency "
        "from marts.fct_ad_performance_daily where workspace_id = %s and platform = %s and campaign_id = %s "
        "group by 1, 2, 3 order by account_id limit 1",
        (workspace_id, platform, campaign_id),
    )
    found = rows(cur)
    return found[0] if found else None


def anomalies(
    cur, workspace_id: str, start: date, end: date, platform: str | None = None, campaign_id: str | None = None,
    metric: str | None = None, flagged_only: bool = True,
) -> list[dict[str, Any]]:  # fmt: skip
    cur.execute(
        "select anomaly_id, date_day, platform, account_id, campaign_id, campaign_name, currency, entity_type, entity_id, "
        "metric, value, baseline_median, baseline_mad, robust_sigma, robust_z, z_threshold, history_days, scoring_method, "
        "direction, is_scored, is_anomaly "
        "from marts.mart_anomalies where workspace_id = %s and date_day between %s and %s "
        "and (%s::text is null or platform = %s) and (%s::text is null or campaign_id = %s) "
        "and (%s::text is null or metric = %s) and (not %s or is_anomaly) "
        "order by date_day, platform, campaign_id, metric",
        (workspace_id, start, end, platform, platform, campaign_id, campaign_id, metric, metric, flagged_only),
    )
    return rows(cur)


def alerts(
    cur, workspace_id: str, start: date, end: date, state: str | None = None, platform: str | None = None,
    campaign_id: str | None = None,
) -> list[dict[str, Any]]:  # fmt: skip
    """The marts' alerts with what people did with them (ops.alert_log: state, sent or held back)."""
    cur.execute(
        "select a.alert_id, a.date_day, a.platform, a.account_id, a.campaign_id, a.campaign_name, a.currency, a.entity_type, "
        "a.source, a.signal, a.rule_id, a.metric, a.direction, a.value, a.baseline, a.threshold_value, a.severity, a.score, "
        "a.explanation, a.dashboard_url, a.planned_change_id, "
        "coalesce(l.state, 'open') as state, l.state_until, l.state_changed_at, l.state_changed_by, "
        "coalesce(l.status, 'not yet processed') as delivery, l.suppressed_by "
        "from marts.mart_alerts as a left join ops.alert_log as l on l.alert_key = a.alert_key "
        "where a.workspace_id = %s and a.date_day between %s and %s "
        "and (%s::text is null or coalesce(l.state, 'open') = %s) "
        "and (%s::text is null or a.platform = %s) and (%s::text is null or a.campaign_id = %s) "
        "order by a.date_day desc, a.severity, a.score desc nulls last, a.alert_id",
        (workspace_id, start, end, state, state, platform, platform, campaign_id, campaign_id),
    )
    return rows(cur)


def change_alert_state(cur, workspace_id: str, alert_id: str, state: str, until: date | None, by: str) -> dict[str, Any] | None:
    """Set the state of a full alert id's series (ads_elt.alerts.states.change); None when the workspace has no such alert.

    Raises ValueError for a state the alert cannot take (a snooze without a day, or one before the alert's day).
    """
    from ads_elt.alerts import states as alert_states

    cur.execute("select alert_key from ops.alert_log where alert_id = %s and workspace_id = %s", (alert_id, workspace_id))
    row = cur.fetchone()
    return None if row is None else alert_states.change(cur, row[0], state, until=until, by=by)


def recommendations(cur, workspace_id: str, day: date | None) -> list[dict[str, Any]]:
    cur.execute(
        "select * from marts.mart_budget_recommendations where workspace_id = %s "
        "and date_day = coalesce(%s, (select max(date_day) from marts.mart_budget_recommendations where workspace_id = %s)) "
        "order by is_eligible desc, abs(coalesce(change_amount_reporting, 0)) desc, platform, campaign_id",
        (workspace_id, day, workspace_id),
    )
    return rows(cur)


def sync_status(cur, workspace_id: str) -> list[dict[str, Any]]:
    cur.execute(
        "select a.platform, a.account_id, a.account_name, a.active, coalesce(s.status, 'never synced') as status, "
        "s.last_success_window_end as data_through, s.failing_since, s.consecutive_failures, s.last_error, "
        "s.last_attempt_at, s.updated_at "
        "from ops.workspace_accounts as a left join ops.sync_state as s "
        "on s.workspace_id = a.workspace_id and s.platform = a.platform and s.account_id = a.account_id "
        "where a.workspace_id = %s order by a.active desc, a.platform, a.account_id",
        (workspace_id,),
    )
    return rows(cur)


def account_exists(cur, workspace_id: str, platform: str, account_id: str) -> bool:
    cur.execute(
        "select 1 from ops.workspace_accounts where workspace_id = %s and platform = %s and account_id = %s and active",
        (workspace_id, platform, account_id),
    )
    return cur.fetchone() is not None


def digest_chart(cur, alert_id: str) -> tuple[str, str | None] | None:
    """(workspace_id, chart_path) of an alert whose digest carried a chart."""
    cur.execute("select workspace_id, chart_path from ops.alert_log where alert_id = %s", (alert_id,))
    row = cur.fetchone()
    return (row[0], row[1]) if row else None
