"""What a demo run did, read back from the warehouse."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import psycopg2


def _num(v: float) -> str:
    return f"{v:,.4f}" if abs(v) < 1 else f"{v:,.2f}"


def _table(headers: list[str], rows: list[tuple]) -> str:
    cells = [[("" if v is None else (_num(v) if isinstance(v, float) else str(v))) for v in r] for r in rows]
    widths = [max(len(h), *(len(r[i]) for r in cells)) if cells else len(h) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=False))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.rjust(w) if c[:1].isdigit() or c[:1] == "-" else c.ljust(w) for c, w in zip(r, widths, strict=False)) for r in cells]
    return "\n".join(out)


def _query(cur, sql: str, params: tuple = ()) -> tuple[list[str], list[tuple]]:
    cur.execute(sql, params)
    return [d[0] for d in cur.description], [tuple(float(v) if hasattr(v, "as_tuple") else v for v in r) for r in cur.fetchall()]


def print_report(dsn: str, report_date: date, log_path: Path | None = None, run_started: datetime | None = None) -> None:
    """The demo's report on ``report_date``; alerts first recorded before ``run_started`` (an earlier demo run on this
    warehouse, perhaps of older code) are marked as such: the alert log is history and keeps what that run decided."""
    if log_path and log_path.exists():
        states = re.findall(r"(?:Dag run|DagRun) .*?(?:state|finished)[^\n]*", log_path.read_text())
        if states:
            print(states[-1][:300])
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        print("\n== Rows per platform and account ==")
        print(
            _table(
                *_query(
                    cur,
                    """
                    select s.platform, s.workspace_id, s.account_id, s.status,
                           s.last_success_window_end as data_through,
                           coalesce(f.campaign_days, 0) as campaign_days_in_marts,
                           coalesce(f.spend, 0)::float as spend, f.currency
                    from ops.sync_state s
                    left join (
                        select platform, workspace_id, account_id, currency, count(*) as campaign_days, sum(spend) as spend
                        from marts.fct_ad_performance_daily group by 1, 2, 3, 4
                    ) f using (platform, workspace_id, account_id)
                    order by 2, 1
                    """,
                )
            )
        )
        print(f"\n== Campaign KPIs on {report_date} ==")
        print(
            _table(
                *_query(
                    cur,
                    """
                    select workspace_id, platform, campaign_name, currency, spend::float, impressions, clicks,
                           round((ctr * 100)::numeric, 2)::float as ctr_pct, round((cpa)::numeric, 2)::float as cpa,
                           round((roas)::numeric, 2)::float as roas, round((roas_7d)::numeric, 2)::float as roas_7d,
                           round((roas_28d)::numeric, 2)::float as roas_28d
                    from marts.mart_campaign_kpis_daily where date_day = %s order by 1, 2, 3
                    """,
                    (report_date,),
                )
            )
        )
        print(f"\n== Anomalies on {report_date} ==")
        print(
            _table(
                *_query(
                    cur,
                    """
                    select workspace_id, platform, campaign_name, metric, round((value)::numeric, 4)::float as value,
                           round((baseline_median)::numeric, 4)::float as baseline, round((robust_z)::numeric, 1)::float as robust_z
                    from marts.mart_anomalies where date_day = %s and is_anomaly order by 1, 2, 3, 4
                    """,
                    (report_date,),
                )
            )
        )
        print("\n== Store vs platform ROAS, last 28 days ==")
        print(
            _table(
                *_query(
                    cur,
                    """
                    select workspace_id, platform, reporting_currency as currency, spend_28d::float as spend,
                           platform_revenue_28d::float as platform_revenue,
                           round(platform_roas_28d::numeric, 2)::float as platform_roas,
                           attributed_revenue_28d::float as store_attributed,
                           round(attributed_roas_28d::numeric, 2)::float as store_roas,
                           store_revenue_28d::float as store_revenue,
                           round(blended_roas_28d::numeric, 2)::float as blended_roas,
                           round((unclaimed_revenue_share_28d * 100)::numeric, 1)::float as unclaimed_pct
                    from marts.mart_workspace_kpis_daily
                    where date_day = %s
                    order by workspace_id, platform = 'all', platform
                    """,
                    (report_date,),
                )
            )
        )
        print("\n== Alerts ==")
        cur.execute(
            "select status, coalesce(channel, 'task log'), message, suppressed_by, first_seen_at from ops.alert_log "
            "where date_day = %s order by alert_key",
            (report_date,),
        )
        rows = cur.fetchall()
        earlier = 0
        for status, channel, message, suppressed_by, first_seen_at in rows:
            before = run_started is not None and first_seen_at < run_started
            earlier += before
            mark = ", by an earlier run" if before else ""
            if status == "suppressed" and suppressed_by:
                # held back: a total beside its part's alert, or a repeat (ads_elt.alerts.selection)
                print(f"[not sent, {suppressed_by} says it{mark}] {message}")
            else:
                print(f"[{status} -> {channel}{mark}] {message}")
        if not rows:
            print("(none)")
        if earlier:
            print(
                f"({earlier} of these were decided by an earlier demo run on this warehouse, and the alert log keeps "
                "what it decided; `make stop && rm -rf .local` and `make demo` show a fresh run)"
            )
    conn.close()


def print_stream_report(dsn: str, day: date) -> None:
    """What the ads_stream run did: the day so far per hour, the stream against the daily report, intraday alerts."""
    conn = psycopg2.connect(dsn)
    with conn.cursor() as cur:
        print(f"\n== Amazon Marketing Stream: {day} so far, per profile-local hour (marts.fct_ad_performance_hourly) ==")
        print(
            _table(
                *_query(
                    cur,
                    "select h.hour_of_day as hour, h.campaign_id, sum(h.spend) as spend, sum(h.impressions) as impressions, "
                    "sum(h.clicks) as clicks, sum(h.conversions) as conversions, sum(h.conversion_value) as sales, sum(h.records) as records "
                    "from marts.fct_ad_performance_hourly h where h.date_day = %s group by 1, 2 order by 1, 2",
                    (day,),
                )
            )
        )
        print("\n== The stream against the daily report (marts.mart_stream_reconciliation) ==")
        print(
            _table(
                *_query(
                    cur,
                    "select date_day, count(*) as campaigns, bool_and(is_complete_day) as complete, "
                    "max(greatest(abs(spend_diff_pct), abs(clicks_diff_pct), abs(impressions_diff_pct), abs(conversions_diff_pct), "
                    "abs(conversion_value_diff_pct))) as max_diff_pct, bool_and(within_tolerance) as within_2pct "
                    "from marts.mart_stream_reconciliation group by 1 order by 1",
                )
            )
        )
        # this drain's (the last one's): a demo run again on the same stack publishes its broken bodies anew
        cur.execute(
            "select count(*) from ops.quarantine where platform = 'amazon_ads' and report = 'marketing_stream' "
            "and sync_run_id = (select sync_run_id from ops.quarantine where platform = 'amazon_ads' "
            "and report = 'marketing_stream' order by id desc limit 1)"
        )
        print(f"\nunreadable messages quarantined (and sent to the dead-letter queue) by this run: {cur.fetchone()[0]}")
        print("\n== Intraday alerts (marts.mart_intraday_alerts -> ops.alert_log) ==")
        cur.execute(
            "select a.severity, a.campaign_name, a.explanation, coalesce(l.status, 'not logged') "
            "from marts.mart_intraday_alerts a left join ops.alert_log l using (alert_key) order by a.score desc"
        )
        rows = cur.fetchall()
        for severity, name, explanation, status in rows:
            print(f"  [{severity}] {name}: {explanation} ({status})")
        if not rows:
            print("  none")
    conn.close()
