{#-
    The metrics scored for anomalies, one row per campaign, day and metric,
    with the direction that is bad for the business and whether the day has
    the volume the metric needs to be meaningful. The guardrail is on the
    metric's denominator (the volume that makes the ratio stable), never on
    the quantity whose drop is the anomaly:

        spend  up    spend >= anomaly_min_spend
        ctr    down  impressions >= anomaly_min_impressions
        cvr    down  clicks >= anomaly_min_clicks
        cpa    up    spend >= anomaly_min_spend
        roas   down  spend >= anomaly_min_spend

    cpa and roas additionally need a baseline that converts: the median daily
    conversions of the baseline days must reach anomaly_min_conversions
    (`min_baseline_conversions`). Requiring conversions on the scored day
    itself would hide exactly the collapses worth reporting.
-#}
{%- set min_spend = var('anomaly_min_spend') -%}
{%- set min_impressions = var('anomaly_min_impressions') -%}
{%- set min_clicks = var('anomaly_min_clicks') -%}
{%- set min_conversions = var('anomaly_min_conversions') -%}
{%- set campaign_day_columns = [
    'date_day',
    'workspace_id',
    'platform',
    'account_id',
    'campaign_id',
    'campaign_name',
    'currency',
    'conversions',
] -%}

with

int_ad_performance_unioned as (

    select * from {{ ref('int_ad_performance_unioned') }}

),

spend as (

    select
        {{ campaign_day_columns | join(',\n        ') }},
        'spend' as metric,
        'up' as direction,
        cast(spend as {{ dbt.type_float() }}) as value,
        spend >= {{ min_spend }} as has_min_volume,
        cast(0 as numeric) as min_baseline_conversions

    from int_ad_performance_unioned

),

ctr as (

    select
        {{ campaign_day_columns | join(',\n        ') }},
        'ctr' as metric,
        'down' as direction,
        {{ ctr('clicks', 'impressions') }} as value,
        impressions >= {{ min_impressions }} as has_min_volume,
        cast(0 as numeric) as min_baseline_conversions

    from int_ad_performance_unioned

),

cvr as (

    select
        {{ campaign_day_columns | join(',\n        ') }},
        'cvr' as metric,
        'down' as direction,
        {{ cvr('conversions', 'clicks') }} as value,
        clicks >= {{ min_clicks }} as has_min_volume,
        cast(0 as numeric) as min_baseline_conversions

    from int_ad_performance_unioned

),

cpa as (

    select
        {{ campaign_day_columns | join(',\n        ') }},
        'cpa' as metric,
        'up' as direction,
        {{ cpa('spend', 'conversions') }} as value,
        spend >= {{ min_spend }} as has_min_volume,
        cast({{ min_conversions }} as numeric) as min_baseline_conversions

    from int_ad_performance_unioned

),

roas as (

    select
        {{ campaign_day_columns | join(',\n        ') }},
        'roas' as metric,
        'down' as direction,
        {{ roas('conversion_value', 'spend') }} as value,
        spend >= {{ min_spend }} as has_min_volume,
        cast({{ min_conversions }} as numeric) as min_baseline_conversions

    from int_ad_performance_unioned

),

final as (

    select * from spend
    union all
    select * from ctr
    union all
    select * from cvr
    union all
    select * from cpa
    union all
    select * from roas

)

select * from final
