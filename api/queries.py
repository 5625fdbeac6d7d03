"""What the service reads, one function per resource; every value is a bound parameter.

KPIs: the campaign, account and platform grains are `marts.mart_campaign_kpis_daily`,
`marts.mart_account_kpis_daily` and `marts.mart_platform_kpis_daily` as built; the
workspace grain is summed from `marts.fct_ad_performance_daily` here and every ratio
is computed once from those sums (the KPI definitions of dbt_project/macros/kpis.sql:
a ratio of sums, never an average of ratios).
Campaign and account rows are in the account's currency; platform and workspace rows
in the workspace's reporting currency, and the workspace grain carries the stores'
revenue and blended ROAS from `marts.mart_workspace_kpis_daily`.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from psycopg2 import sql

GRAINS = ("campaign", "account", "platform", "workspace")
MEASURES = ("spend", "impressions", "clicks", "conversions", "conversion_value")
COUNTS = ("impressions", "clicks")  # whole numbers: their sums are cast back to bigint
WINDOWS = {"7d": 7, "28d": 28}
# name -> (numerator, denominator, factor): the KPI macros of dbt_project/macros/kpis.sql.
RATIOS = {
    "ctr": ("clicks", "impressions", 1),
    "cpc": ("spend", "clicks", 1),
    "cpm": ("spend", "impressions", 1000),
    "cvr": ("conversions", "clicks", 1),
    "cpa": ("spend", "conversions", 1),
    "roas": ("conversion_value", "spend", 1),
    "acos": ("spend", "conversion_value", 1),
}
GRAIN_KEYS = {
    "account": ("platform", "account_id"),
    "platform": ("platform",),
    "workspace": (),
}


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


def build_key(cur) -> str:
    """When the marts were last built (marts.build_log, written by dbt's on-run-end)."""
    cur.execute("select to_regclass('marts.build_log') is not null")
    if not cur.fetchone()[0]:
        return "never"
    cur.execute("select coalesce(max(finished_at)::text, 'never') || '/' || count(*) from marts.build_log")
    return cur.fetchone()[0]


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


def _ratio(name: str, suffix: str = "") -> sql.Composed:
    num, den, factor = RATIOS[name]
    return sql.SQL("cast({num} as double precision) * {factor} / nullif(cast({den} as double precision), 0) as {out}").format(
        num=sql.Identifier(num + suffix),
        den=sql.Identifier(den + suffix),
        factor=sql.Literal(factor),
        out=sql.Identifier(name + suffix),
    )


CAMPAIGN_COLUMNS = (
    "date_day", "platform", "account_id", "campaign_id", "campaign_name", "currency",
    *MEASURES, *RATIOS,
    *(f"{m}_{s}" for s in WINDOWS for m in (*MEASURES, *RATIOS)),
)  # fmt: skip


CAMPAIGN_KEYS = ("date_day", "platform", "account_id", "campaign_id", "campaign_name", "currency")
GRAIN_MARTS = {"account": "mart_account_kpis_daily", "platform": "mart_platform_kpis_daily"}


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
    if grain in GRAIN_MARTS:
        columns = ["date_day", *GRAIN_KEYS[grain], "currency", *(c for c in CAMPAIGN_COLUMNS if c not in CAMPAIGN_KEYS)]
        cur.execute(
            sql.SQL(
                "select {cols} from {mart} where workspace_id = %s and date_day between %s and %s "
                "and (%s::text is null or platform = %s) order by date_day, {order}"
            ).format(
                cols=sql.SQL(", ").join(map(sql.Identifier, columns)),
                mart=sql.Identifier("marts", GRAIN_MARTS[grain]),
                order=sql.SQL(", ").join(map(sql.Identifier, GRAIN_KEYS[grain])),
            ),
            (workspace_id, start, end, platform, platform),
        )
        return rows(cur)
    keys = [sql.Identifier(k) for k in GRAIN_KEYS[grain]]
    local = grain == "account"
    spend = sql.Identifier("spend" if local else "spend_reporting")
    value = sql.Identifier("conversion_value" if local else "conversion_value_reporting")
    currency = sql.Identifier("currency" if local else "reporting_currency")
    partition = sql.SQL("partition by {} ").format(sql.SQL(", ").join(keys)) if keys else sql.SQL("")
    key_list = sql.SQL("").join(sql.SQL("{}, ").format(k) for k in keys)
    windows = []
    for suffix, days in WINDOWS.items():
        for m in MEASURES:
            windows.append(
                sql.SQL("sum({m}) over ({p}order by date_day range between {span} preceding and current row){cast} as {out}").format(
                    m=sql.Identifier(m),
                    p=partition,
                    span=sql.Literal(f"{days - 1} days"),
                    cast=sql.SQL("::bigint" if m in COUNTS else ""),
                    out=sql.Identifier(f"{m}_{suffix}"),
                )
            )
    ratios = [_ratio(r) for r in RATIOS] + [_ratio(r, f"_{s}") for s in WINDOWS for r in RATIOS]
    window_cols = [sql.Identifier(f"{m}_{s}") for s in WINDOWS for m in MEASURES]
    query = sql.SQL(
        """
        with daily as (
            select date_day, {key_list}max({currency}) as currency,
                sum({spend}) as spend, sum(impressions)::bigint as impressions, sum(clicks)::bigint as clicks,
                sum(conversions) as conversions, sum({value}) as conversion_value
            from marts.fct_ad_performance_daily
            where workspace_id = %s and date_day between %s and %s and (%s::text is null or platform = %s)
            group by date_day{group_keys}
        ),
        windowed as (
            select *, {windows} from daily
        )
        select date_day, {key_list}currency, spend, impressions, clicks, conversions, conversion_value,
            {ratios}, {window_cols}
        from windowed where date_day between %s and %s
        order by date_day{order_keys}
        """
    ).format(
        key_list=key_list,
        currency=currency,
        spend=spend,
        value=value,
        group_keys=sql.SQL("").join(sql.SQL(", {}").format(k) for k in keys),
        windows=sql.SQL(", ").join(windows),
        ratios=sql.SQL(", ").join(ratios),
        window_cols=sql.SQL(", ").join(window_cols),
        order_keys=sql.SQL("").join(sql.SQL(", {}").format(k) for k in keys),
    )
    reach = start - timedelta(days=max(WINDOWS.values()) - 1)
    cur.execute(query, (workspace_id, reach, end, platform, platform, start, end))
    out = rows(cur)
    if grain == "workspace" and out:
        cur.execute(
            "select date_day, store_revenue, blended_roas, attributed_revenue, attributed_roas from marts.mart_workspace_kpis_daily "
            "where workspace_id = %s and platform = 'all' and date_day between %s and %s",
            (workspace_id, start, end),
        )
        stores = {r["date_day"]: r for r in rows(cur)}
        for r in out:
            s = stores.get(r["date_day"], {})
            for k in ("store_revenue", "blended_roas", "attributed_revenue", "attributed_roas"):
                r[k] = s.get(k)
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


def alert_workspace(cur, alert_id: str) -> tuple[str, str] | None:
    """(workspace_id, alert_key) of a full alert id in ops.alert_log, else None."""
    cur.execute("select workspace_id, alert_key from ops.alert_log where alert_id = %s", (alert_id,))
    row = cur.fetchone()
    return (row[0], row[1]) if row else None


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
