{#-
    Ad KPIs per workspace and day, all platforms together, in the workspace's
    reporting currency: the day's sums over every account, 7-, 28-, 30- and
    90-day calendar windows ending on the day and each window's previous
    period, every ratio a ratio of those sums (macros/kpi_grains.sql). The
    stores' side (store revenue, blended ROAS) is mart_workspace_kpis_daily.
-#}
{{
    config(
        materialized='table',
        tags=['rollup'],
        indexes=[
            {'columns': ['workspace_id', 'date_day'], 'unique': True},
        ],
    )
}}

{{ kpis_at_grain(['workspace_id'], reporting_currency=true) }}
