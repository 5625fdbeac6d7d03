{#-
    KPIs per ad account and day, in the account's currency: the day's sums
    over its campaigns, 7-, 28-, 30- and 90-day calendar windows ending on the
    day and each window's previous period, every ratio a ratio of those sums
    (macros/kpi_grains.sql). A table rebuilt each run: one row per account and
    day is small beside the campaign fact it sums.
-#}
{{
    config(
        materialized='table',
        tags=['rollup'],
        indexes=[
            {'columns': ['date_day']},
            {'columns': ['workspace_id', 'platform', 'account_id', 'date_day'], 'unique': True},
        ],
    )
}}

{{ kpis_at_grain(['workspace_id', 'platform', 'account_id']) }}
