-- The fact keeps every unit of spend, impressions, clicks, conversions and
-- conversion value that staging parsed, but for the rows it could not
-- complete, which are in mart_ad_performance_exceptions: per platform, fact
-- and exceptions together sum to staging (the campaign_day models of var
-- ad_performance_models). Returns one row per platform whose
-- totals differ.

{% set platform_models = ad_performance_models('campaign_day') -%}
{%- set columns = ['platform', 'spend', 'impressions', 'clicks', 'conversions', 'conversion_value'] -%}

with

{{ union_models_ctes(platform_models, columns) }},

fct_ad_performance_daily as (

    select * from {{ ref('fct_ad_performance_daily') }}

),

mart_ad_performance_exceptions as (

    select * from {{ ref('mart_ad_performance_exceptions') }}

),

fact_rows as (

    select platform, spend, impressions, clicks, conversions, conversion_value
    from fct_ad_performance_daily

    union all

    select platform, spend, impressions, clicks, conversions, conversion_value
    from mart_ad_performance_exceptions

),

staging_totals as (

    select
        platform,
        sum(spend) as spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(conversions) as conversions,
        sum(conversion_value) as conversion_value

    from unioned
    group by platform

),

fact_totals as (

    select
        platform,
        sum(spend) as spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(conversions) as conversions,
        sum(conversion_value) as conversion_value

    from fact_rows
    group by platform

),

final as (

    select
        coalesce(staging_totals.platform, fact_totals.platform) as platform,
        staging_totals.spend as staging_spend,
        fact_totals.spend as fact_spend,
        staging_totals.conversions as staging_conversions,
        fact_totals.conversions as fact_conversions

    from staging_totals
    full outer join fact_totals
        on staging_totals.platform = fact_totals.platform
    where
        staging_totals.platform is null
        or fact_totals.platform is null
        or staging_totals.spend <> fact_totals.spend
        or staging_totals.impressions <> fact_totals.impressions
        or staging_totals.clicks <> fact_totals.clicks
        or staging_totals.conversions <> fact_totals.conversions
        or staging_totals.conversion_value <> fact_totals.conversion_value

)

select * from final
