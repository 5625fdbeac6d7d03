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

with

daily as (

    select
        date_day,
        workspace_id,
        platform,
        max(reporting_currency) as currency,
        sum(spend_reporting) as spend,
        cast(sum(impressions) as {{ dbt.type_bigint() }}) as impressions,
        cast(sum(clicks) as {{ dbt.type_bigint() }}) as clicks,
        sum(conversions) as conversions,
        sum(conversion_value_reporting) as conversion_value

    from {{ ref('fct_ad_performance_daily') }}
    group by 1, 2, 3

),

{{ kpis_at_grain('daily', ['workspace_id', 'platform'], var('kpi_grain_windows')) }}
