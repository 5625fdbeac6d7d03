{#-
    One row per campaign, day and metric (spend, ctr, cvr, cpa, roas), scored
    against a robust baseline: the median and MAD of the metric over the
    `anomaly_window_days` days before the scored day (the day itself is never
    part of its own baseline), using only days that meet the metric's volume
    guardrail (see int_campaign_metrics_unpivoted).

        robust_z = (value - baseline_median) / (1.4826 * baseline_mad)

    Every point is a row. A point is scored (`is_scored`) only when its value
    exists, it meets the volume guardrail, the baseline has at least
    `anomaly_min_history_days` days, the MAD is above zero and, for cpa and
    roas, the baseline converts enough. Unscored points have a null robust_z
    and are never anomalies. An anomaly is a scored point beyond
    `anomaly_z_threshold` in the metric's bad direction.
-#}
{%- set window_days = var('anomaly_window_days') -%}
{%- set z_threshold = var('anomaly_z_threshold') -%}
{%- set min_history_days = var('anomaly_min_history_days') -%}
{%- set point_key = ['workspace_id', 'platform', 'account_id', 'campaign_id', 'metric', 'date_day'] -%}

with

int_campaign_metrics_unpivoted as (

    select * from {{ ref('int_campaign_metrics_unpivoted') }}

),

baseline_days as (

    select
        workspace_id,
        platform,
        account_id,
        campaign_id,
        metric,
        date_day,
        value,
        conversions

    from int_campaign_metrics_unpivoted
    where
        has_min_volume
        and value is not null

),

baseline_medians as (

    select
        points.workspace_id,
        points.platform,
        points.account_id,
        points.campaign_id,
        points.metric,
        points.date_day,
        count(baseline_days.date_day) as history_days,
        {{ median('baseline_days.value') }} as baseline_median,
        {{ median('baseline_days.conversions') }} as baseline_conversions

    from int_campaign_metrics_unpivoted as points
    left join baseline_days
        on
            points.workspace_id = baseline_days.workspace_id
            and points.platform = baseline_days.platform
            and points.account_id = baseline_days.account_id
            and points.campaign_id = baseline_days.campaign_id
            and points.metric = baseline_days.metric
            and baseline_days.date_day >= {{ dbt.dateadd('day', -window_days, 'points.date_day') }}
            and baseline_days.date_day < points.date_day
    group by
        points.workspace_id,
        points.platform,
        points.account_id,
        points.campaign_id,
        points.metric,
        points.date_day

),

baseline_deviations as (

    select
        baseline_medians.workspace_id,
        baseline_medians.platform,
        baseline_medians.account_id,
        baseline_medians.campaign_id,
        baseline_medians.metric,
        baseline_medians.date_day,
        {{ median('abs(baseline_days.value - baseline_medians.baseline_median)') }} as baseline_mad

    from baseline_medians
    left join baseline_days
        on
            baseline_medians.workspace_id = baseline_days.workspace_id
            and baseline_medians.platform = baseline_days.platform
            and baseline_medians.account_id = baseline_days.account_id
            and baseline_medians.campaign_id = baseline_days.campaign_id
            and baseline_medians.metric = baseline_days.metric
            and baseline_days.date_day >= {{ dbt.dateadd('day', -window_days, 'baseline_medians.date_day') }}
            and baseline_days.date_day < baseline_medians.date_day
    group by
        baseline_medians.workspace_id,
        baseline_medians.platform,
        baseline_medians.account_id,
        baseline_medians.campaign_id,
        baseline_medians.metric,
        baseline_medians.date_day

),

scored as (

    select
        points.*,
        baseline_medians.history_days,
        baseline_medians.baseline_median,
        baseline_deviations.baseline_mad,
        coalesce(
            points.value is not null
            and points.has_min_volume
            and baseline_medians.history_days >= {{ min_history_days }}
            and baseline_deviations.baseline_mad > 0
            and baseline_medians.baseline_conversions >= points.min_baseline_conversions,
            false
        ) as is_scored

    from int_campaign_metrics_unpivoted as points
    inner join baseline_medians
        on
            points.workspace_id = baseline_medians.workspace_id
            and points.platform = baseline_medians.platform
            and points.account_id = baseline_medians.account_id
            and points.campaign_id = baseline_medians.campaign_id
            and points.metric = baseline_medians.metric
            and points.date_day = baseline_medians.date_day
    inner join baseline_deviations
        on
            points.workspace_id = baseline_deviations.workspace_id
            and points.platform = baseline_deviations.platform
            and points.account_id = baseline_deviations.account_id
            and points.campaign_id = baseline_deviations.campaign_id
            and points.metric = baseline_deviations.metric
            and points.date_day = baseline_deviations.date_day

),

z_scores as (

    select
        *,
        case
            when is_scored
                then (value - baseline_median) / (1.4826 * baseline_mad)
        end as robust_z

    from scored

),

final as (

    select
        {{ surrogate_key(point_key) }} as anomaly_id,
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        currency,
        metric,
        cast(value as {{ dbt.type_float() }}) as value,
        cast(baseline_median as {{ dbt.type_float() }}) as baseline_median,
        cast(baseline_mad as {{ dbt.type_float() }}) as baseline_mad,
        cast(robust_z as {{ dbt.type_float() }}) as robust_z,
        history_days,
        direction,
        is_scored,
        coalesce(
            case direction
                when 'up' then robust_z > {{ z_threshold }}
                when 'down' then robust_z < -{{ z_threshold }}
            end,
            false
        ) as is_anomaly

    from z_scores

)

select * from final
