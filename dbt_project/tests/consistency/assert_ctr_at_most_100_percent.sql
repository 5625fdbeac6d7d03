-- Consistency: CTR above the dq_thresholds bound (100%): more clicks than impressions.
-- Warns; failing rows are stored in dq.assert_ctr_at_most_100_percent and alerted by the pipeline.
{{ config(severity='warn', store_failures=true, schema='dq') }}

with

fct_ad_performance_daily as (

    select * from {{ ref('fct_ad_performance_daily') }}

),

dq_thresholds as (

    select * from {{ ref('dq_thresholds') }}
    where check_name = 'ctr_over_100_percent'

),

final as (

    select
        dq_thresholds.check_name,
        fct.workspace_id,
        fct.platform,
        fct.account_id,
        fct.campaign_id,
        fct.date_day,
        {{ safe_divide('fct.clicks', 'fct.impressions') }} as observed,
        dq_thresholds.threshold,
        'CTR over ' || round(dq_thresholds.threshold * 100) || '%: '
        || fct.clicks || ' clicks on ' || fct.impressions || ' impressions' as detail

    from fct_ad_performance_daily as fct
    cross join dq_thresholds
    where
        fct.spend >= dq_thresholds.min_spend
        and fct.clicks > 0
        and (fct.impressions = 0 or fct.clicks > fct.impressions * dq_thresholds.threshold)

)

select * from final
