-- Consistency: a campaign-day with spend but neither impressions nor clicks.
-- Threshold (min_spend) from the dq_thresholds seed. Warns; failing rows are
-- stored in dq.assert_no_spend_without_metrics and alerted by the pipeline.
{{ config(severity='warn', store_failures=true, schema='dq') }}

with

fct_ad_performance_daily as (

    select * from {{ ref('fct_ad_performance_daily') }}

),

dq_thresholds as (

    select * from {{ ref('dq_thresholds') }}
    where check_name = 'spend_without_metrics'

),

final as (

    select
        dq_thresholds.check_name,
        fct.workspace_id,
        fct.platform,
        fct.account_id,
        fct.campaign_id,
        fct.date_day,
        fct.spend as observed,
        dq_thresholds.min_spend as threshold,
        'spend ' || fct.spend || ' ' || fct.currency || ' with no impressions or clicks reported' as detail

    from fct_ad_performance_daily as fct
    cross join dq_thresholds
    where
        fct.spend >= dq_thresholds.min_spend
        and coalesce(fct.impressions, 0) = 0
        and coalesce(fct.clicks, 0) = 0

)

select * from final
