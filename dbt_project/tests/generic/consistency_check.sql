{#-
    A consistency check of a campaign-day model against its row in the
    `dq_thresholds` seed (`check_name`): one row per failing campaign-day with
    the check's name, the keys, the observed value, the threshold and a
    one-line detail. Campaign-days spending less than the check's `min_spend`
    are not checked. Warns; the failing rows are stored in schema `dq` under
    the test's name, and the pipeline's `data_quality` task alerts each.

    - spend_without_metrics: spend with neither impressions nor clicks
      (observed: spend; threshold: min_spend);
    - ctr_over_100_percent: clicks above `threshold` x impressions
      (observed: CTR);
    - roas_over_bound: conversion value above `threshold` x spend, usually a
      conversion-value or currency error (observed: ROAS).
-#}
{% test consistency_check(model, check_name) %}
{{ config(severity='warn', store_failures=true, schema='dq') }}
{%- set roas = safe_divide('checked.conversion_value', 'checked.spend') -%}
{%- set checks = {
    'spend_without_metrics': {
        'observed': 'checked.spend',
        'threshold': 'dq_thresholds.min_spend',
        'fails': 'coalesce(checked.impressions, 0) = 0 and coalesce(checked.clicks, 0) = 0',
        'detail': "'spend ' || checked.spend || ' ' || checked.currency || ' with no impressions or clicks reported'",
    },
    'ctr_over_100_percent': {
        'observed': safe_divide('checked.clicks', 'checked.impressions'),
        'threshold': 'dq_thresholds.threshold',
        'fails': 'checked.clicks > 0 and (checked.impressions = 0 or checked.clicks > checked.impressions * dq_thresholds.threshold)',
        'detail': "'CTR over ' || round(dq_thresholds.threshold * 100) || '%: ' || checked.clicks || ' clicks on ' || checked.impressions || ' impressions'",
    },
    'roas_over_bound': {
        'observed': roas,
        'threshold': 'dq_thresholds.threshold',
        'fails': 'checked.conversion_value > checked.spend * dq_thresholds.threshold',
        'detail': "'ROAS ' || round(cast(" ~ roas ~ " as numeric), 1) || ' above the sane bound of ' || dq_thresholds.threshold"
            ~ " || ' (conversion value ' || checked.conversion_value || ' on spend ' || checked.spend || ' ' || checked.currency || ')'",
    },
} -%}
{%- set check = checks[check_name] -%}

with

checked as (

    select * from {{ model }}

),

dq_thresholds as (

    select * from {{ ref('dq_thresholds') }}
    where check_name = '{{ check_name }}'

),

final as (

    select
        dq_thresholds.check_name,
        checked.workspace_id,
        checked.platform,
        checked.account_id,
        checked.campaign_id,
        checked.date_day,
        {{ check.observed }} as observed,
        {{ check.threshold }} as threshold,
        {{ check.detail }} as detail

    from checked
    cross join dq_thresholds
    where
        checked.spend >= dq_thresholds.min_spend
        and {{ check.fails }}

)

select * from final

{% endtest %}
