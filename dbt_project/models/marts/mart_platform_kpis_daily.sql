{#-
    KPIs per workspace, ad platform and day, in the workspace's reporting
    currency (accounts in other currencies converted by the fact's daily rate):
    the day's sums over the platform's accounts, 7-, 28-, 30- and 90-day
    calendar windows ending on the day and each window's previous period,
    every ratio a ratio of those sums (macros/kpi_grains.sql).
-#}
{{
    config(
        materialized='table',
        tags=['rollup'],
        indexes=[
            {'columns': ['date_day']},
            {'columns': ['workspace_id', 'platform', 'date_day'], 'unique': True},
        ],
    )
}}

{{ kpis_at_grain(['workspace_id', 'platform'], reporting_currency=true) }}
