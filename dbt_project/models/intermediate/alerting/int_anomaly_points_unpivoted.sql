{#-
    The points the anomaly detector scores, in long form: one row per
    entity, day and metric, for every campaign (account currency), every
    platform total of a workspace (its campaigns on that platform summed in
    the reporting currency, account/campaign 'all') and every workspace
    total (platform/account/campaign 'all'). Each row carries the bad
    direction of its metric, the volume guardrail and the workspace's
    detector settings (registry, else the project vars).

    Guardrails sit on the metric's denominator (the volume that makes the
    ratio stable), never on the quantity whose drop is the anomaly:

        spend  up    spend >= min_spend
        ctr    down  impressions >= min_impressions
        cvr    down  clicks >= min_clicks
        cpa    up    spend >= min_spend
        roas   down  spend >= min_spend

    cpa and roas additionally need a baseline that converts (median daily
    conversions of the baseline days >= min_conversions,
    `min_baseline_conversions`): requiring conversions on the scored day
    itself would hide exactly the collapses worth reporting.

    It reads the fact (a mart) because workspace totals must be summed in
    one currency.
-#}
{%- set metrics = {
    'spend': ('up', 'spend', 'spend >= settings.anomaly_min_spend', false),
    'ctr': ('down', ctr('clicks', 'impressions'), 'impressions >= settings.anomaly_min_impressions', false),
    'cvr': ('down', cvr('conversions', 'clicks'), 'clicks >= settings.anomaly_min_clicks', false),
    'cpa': ('up', cpa('spend', 'conversions'), 'spend >= settings.anomaly_min_spend', true),
    'roas': ('down', roas('conversion_value', 'spend'), 'spend >= settings.anomaly_min_spend', true),
} -%}

with

fct_ad_performance_daily as (

    select * from {{ ref('fct_ad_performance_daily') }}
    where is_active is not false  -- accounts removed from the registry are not alerted on

),

int_workspace_settings_pivoted as (

    select * from {{ ref('int_workspace_settings_pivoted') }}

),

campaign_days as (

    select
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        currency,
        'campaign' as entity_type,
        campaign_id as entity_id,
        spend,
        impressions,
        clicks,
        conversions,
        conversion_value

    from fct_ad_performance_daily

),

{#- Totals per workspace and platform, and per workspace: summed in the reporting currency. #}
{%- set totals = {
    'platform': ('platform', "'All campaigns on the platform'", 'platform'),
    'workspace': ("'all'", "'All campaigns'", 'workspace_id'),
} %}
{%- for entity_type, (platform_sql, name_sql, entity_sql) in totals.items() %}

{{ entity_type }}_days as (

    select
        date_day,
        workspace_id,
        {{ platform_sql }} as platform,
        'all' as account_id,
        'all' as campaign_id,
        {{ name_sql }} as campaign_name,
        max(reporting_currency) as currency,
        '{{ entity_type }}' as entity_type,
        {{ entity_sql }} as entity_id,
        sum(spend_reporting) as spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(conversions) as conversions,
        sum(conversion_value_reporting) as conversion_value

    from fct_ad_performance_daily
    group by
        date_day,
        workspace_id{{ ',\n        platform' if entity_type == 'platform' }}

),
{%- endfor %}

entity_days as (

    select * from campaign_days
    union all
    select * from platform_days
    union all
    select * from workspace_days

),

points as (

    {%- for metric, (direction, value_sql, volume_sql, needs_conversions) in metrics.items() %}

    select
        entity_days.date_day,
        entity_days.workspace_id,
        entity_days.platform,
        entity_days.account_id,
        entity_days.campaign_id,
        entity_days.campaign_name,
        entity_days.currency,
        entity_days.entity_type,
        entity_days.entity_id,
        cast(entity_days.conversions as {{ dbt.type_float() }}) as conversions,
        '{{ metric }}' as metric,
        '{{ direction }}' as direction,
        cast({{ value_sql }} as {{ dbt.type_float() }}) as value,
        coalesce({{ volume_sql }}, false) as has_min_volume,
        cast({{ 'settings.anomaly_min_conversions' if needs_conversions else 0 }} as {{ dbt.type_float() }}) as min_baseline_conversions,
        position(',{{ metric }},' in ',' || replace(settings.anomaly_metrics, ' ', '') || ',') > 0 as is_metric_enabled,
        settings.anomaly_window_days as window_days,
        settings.anomaly_min_history_days as min_history_days,
        settings.anomaly_z_threshold as z_threshold,
        settings.anomaly_dow_weeks as dow_weeks,
        settings.anomaly_dow_min_history as dow_min_history,
        settings.anomaly_min_relative_mad as min_relative_mad

    from entity_days
    inner join int_workspace_settings_pivoted as settings
        on entity_days.workspace_id = settings.workspace_id
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

final as (

    select * from points

)

select * from final
