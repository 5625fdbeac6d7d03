-- Consistency: ROAS above the dq_thresholds bound on a campaign-day with real
-- spend (usually a conversion-value or currency error). Warns; failing rows are
-- stored in dq.assert_roas_within_sane_bound and alerted by the pipeline.
{{ config(severity='warn', store_failures=true, schema='dq') }}

with

fct_ad_performance_daily as (

    select * from {{ ref('fct_ad_performance_daily') }}

),

dq_thresholds as (

    select * from {{ ref('dq_thresholds') }}
    where check_name = 'roas_over_bound'

),

final as (

    select
        dq_thresholds.check_name,
        fct.workspace_id,
        fct.platform,
        fct.account_id,
        fct.campaign_id,
        fct.date_day,
        {{ safe_divide('fct.conversion_value', 'fct.spend') }} as observed,
        dq_thresholds.threshold,
        'ROAS ' || round(cast({{ safe_divide('fct.conversion_value', 'fct.spend') }} as numeric), 1)
        || ' above the sane bound of ' || dq_thresholds.threshold
        || ' (conversion value ' || fct.conversion_value || ' on spend ' || fct.spend || ' ' || fct.currency || ')' as detail

    from fct_ad_performance_daily as fct
    cross join dq_thresholds
    where
        fct.spend >= dq_thresholds.min_spend
        and fct.conversion_value > fct.spend * dq_thresholds.threshold

)

select * from final
