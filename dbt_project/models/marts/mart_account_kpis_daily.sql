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

with

daily as (

    select
        date_day,
        workspace_id,
        platform,
        account_id,
        max(currency) as currency,
        sum(spend) as spend,
        cast(sum(impressions) as {{ dbt.type_bigint() }}) as impressions,
        cast(sum(clicks) as {{ dbt.type_bigint() }}) as clicks,
        sum(conversions) as conversions,
        sum(conversion_value) as conversion_value

    from {{ ref('fct_ad_performance_daily') }}
    group by 1, 2, 3, 4

),

{{ kpis_at_grain('daily', ['workspace_id', 'platform', 'account_id'], var('kpi_grain_windows')) }}
