{#-
    Robust anomaly scores: one row per entity (each campaign, and each
    workspace total), day and metric (spend, ctr, cvr, cpa, roas).

    Baseline. The median and the MAD (median absolute deviation) of the
    metric over a trailing window that ends the day BEFORE the scored day:

      - day_of_week: the same weekday of the last `dow_weeks` weeks, used
        once the entity has `dow_min_history` such days (weekly
        seasonality: a Saturday is compared with Saturdays);
      - all_days: otherwise, every day of the last `window_days` days.

    Only days that meet the metric's volume guardrail and have a value are
    baseline days. Then

        robust_sigma = 1.4826 * greatest(baseline_mad, min_relative_mad * |baseline_median|)
        robust_z = (value - baseline_median) / robust_sigma

    (1.4826 x MAD estimates the standard deviation of normal data; the floor
    keeps a very steady baseline, such as a workspace total, from turning a
    few percent of movement into an alert).

    Why median/MAD, not mean/stddev: one extreme day inflates a standard
    deviation for the whole window after it, so every smaller anomaly in the
    following weeks scores low and is missed (masking); the median and MAD
    ignore up to half the window being bad. Why the scored day is excluded:
    a day inside its own baseline pulls the baseline towards itself and
    shrinks its own z (with few days, a spike can never score high).

    A point is scored (`is_scored`) when its metric is enabled for the
    workspace, it has a value, meets the guardrail, the all-days window has
    at least `min_history_days` baseline days (a campaign's first weeks are
    never scored), the MAD is above zero and, for cpa and roas, the baseline
    converts (median daily conversions >= min_baseline_conversions).
    `is_anomaly` = scored and beyond `z_threshold` in the bad direction.

    How it is computed. One pass over the points, ordered by day within
    each entity and metric (`trailing_baseline_days` window: a calendar
    RANGE frame from the largest baseline reach before the day to the day
    before it), collects the baseline days' dates, values and conversions
    into arrays. Each point then unnests its own arrays (at most 56
    elements with the defaults) and takes the medians, the counts and the
    MADs over the days its own settings select (`window_days`, `dow_weeks`),
    with percentile_cont, as a self-join of every point to each of its
    baseline days grouped per point would: the same values, the same rows.
    The cost is a sort of the points and a few small sorts per point, where
    the self-join materialised, hashed and grouped ~56 pairs per point twice
    (medians, then MADs) and dominated a full build.

    The frame's reach is a constant of the statement: the largest
    greatest(window_days, 7 x dow_weeks) over the workspaces' settings
    (`int_workspace_settings_pivoted`, queried when the model runs). Unit
    test fixtures cannot be queried while the test compiles, so there it is
    a year; either way the per-point filters apply each point's own
    settings, and a longer frame only holds more array elements.

    Incremental: a daily run scores only the days from
    `incremental_changed_from()` on (macros/incremental.sql) and replaces
    them whole (`replace_date_range`). A point's score depends on its own
    day and on the baseline days before it, at most
    greatest(window_days, 7 x dow_weeks) days back (56 with the defaults; the
    largest over the workspaces' settings), so the points are read from that
    far before the first changed day: every score equals a full rebuild's.
    A change of the detector settings (registry or vars) changes past scores
    too and needs `dbt build --full-refresh`, which rebuilds everything and
    gives the same rows.
-#}
{%- set point_key = ['workspace_id', 'platform', 'account_id', 'campaign_id', 'metric'] -%}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_date_range',
        unique_key=['date_day', 'workspace_id', 'platform', 'account_id', 'campaign_id', 'entity_type', 'metric'],
        on_schema_change='fail',
        indexes=[
            {'columns': ['date_day']},
            {'columns': ['workspace_id', 'platform', 'date_day']},
        ],
        post_hook="{{ record_incremental_watermark() }}",
    )
}}
{#- Days before a scored day that its baselines read, the largest over the workspaces' settings. -#}
{%- if not execute -%}
    {%- set baseline_reach_days = 0 -%}
{%- elif model.resource_type == 'unit_test' -%}
    {%- set baseline_reach_days = 366 -%}
{%- else -%}
    {%- set reach_query -%}
        select coalesce(max(greatest(anomaly_window_days, 7 * anomaly_dow_weeks)), 0)
        from {{ ref('int_workspace_settings_pivoted') }}
    {%- endset -%}
    {%- set baseline_reach_days = run_query(reach_query).columns[0].values()[0] | int -%}
{%- endif -%}
{%- if is_incremental() -%}
    {%- set changed_from = incremental_changed_from() -%}
{%- endif %}
-- depends_on: {{ ref('int_workspace_settings_pivoted') }}

with

int_anomaly_points_unpivoted as (

    select * from {{ ref('int_anomaly_points_unpivoted') }}
    {%- if is_incremental() %}
    where date_day >= {{ dbt.dateadd('day', -baseline_reach_days, "cast('" ~ changed_from ~ "' as date)") }}
    {%- endif %}

),

baseline_histories as (

    {#- Every baseline day within the largest reach before each point, oldest first. #}
    select
        *,
        array_agg(date_day) filter (where has_min_volume and value is not null) over trailing_baseline_days as history_dates,
        array_agg(value) filter (where has_min_volume and value is not null) over trailing_baseline_days as history_values,
        array_agg(conversions) filter (where has_min_volume and value is not null) over trailing_baseline_days as history_conversions

    from int_anomaly_points_unpivoted
    window trailing_baseline_days as (
        partition by
            {{ point_key | join(',\n            ') }}
        order by date_day
        range between interval '{{ baseline_reach_days }} days' preceding and interval '1 day' preceding
    )

),

points as (

    {#- The points this run scores; the CTE above also held their baseline days. #}
    select
        *,
        {{ dbt.dateadd('day', '-window_days', 'date_day') }} as window_start,
        {{ dbt.dateadd('day', '-7 * dow_weeks', 'date_day') }} as same_weekday_start,
        {{ day_of_week('date_day') }} as weekday

    from baseline_histories
    {%- if is_incremental() %}
    where date_day >= cast('{{ changed_from }}' as date)
    {%- endif %}

),

baselines as (

    select
        points.*,
        baseline.all_days_history,
        baseline.baseline_conversions,
        coalesce(
            baseline.dow_history >= points.dow_min_history and baseline.dow_mad > 0,
            false
        ) as is_day_of_week_scored,
        baseline.all_days_median,
        baseline.all_days_mad,
        baseline.dow_history,
        baseline.dow_median,
        baseline.dow_mad

    from points
    cross join lateral (

        with

        history as (

            select
                baseline_day.value,
                baseline_day.conversions,
                baseline_day.date_day >= points.window_start as is_in_window,
                (
                    {{ day_of_week('baseline_day.date_day') }} = points.weekday
                    and baseline_day.date_day >= points.same_weekday_start
                ) as is_same_weekday

            from unnest(points.history_dates, points.history_values, points.history_conversions)
                as baseline_day (date_day, value, conversions)

        ),

        medians as (

            select
                count(case when is_in_window then 1 end) as all_days_history,
                {{ median('case when is_in_window then value end') }} as all_days_median,
                {{ median('case when is_in_window then conversions end') }} as baseline_conversions,
                count(case when is_same_weekday then 1 end) as dow_history,
                {{ median('case when is_same_weekday then value end') }} as dow_median

            from history

        ),

        deviations as (

            select
                {{ median('case when history.is_in_window then abs(history.value - medians.all_days_median) end') }} as all_days_mad,
                {{ median('case when history.is_same_weekday then abs(history.value - medians.dow_median) end') }} as dow_mad

            from history
            cross join medians

        )

        select * from medians
        cross join deviations

    ) as baseline

),

chosen as (

    select
        *,
        case when is_day_of_week_scored then 'day_of_week' else 'all_days' end as scoring_method,
        case when is_day_of_week_scored then dow_history else all_days_history end as history_days,
        case when is_day_of_week_scored then dow_median else all_days_median end as baseline_median,
        case when is_day_of_week_scored then dow_mad else all_days_mad end as baseline_mad

    from baselines

),

scored as (

    select
        *,
        coalesce(
            is_metric_enabled
            and value is not null
            and has_min_volume
            and all_days_history >= min_history_days
            and baseline_mad > 0
            and baseline_conversions >= min_baseline_conversions,
            false
        ) as is_scored

    from chosen

),

z_scores as (

    select
        *,
        case
            when is_scored
                then 1.4826 * greatest(baseline_mad, min_relative_mad * abs(baseline_median))
        end as robust_sigma,
        case
            when is_scored
                then (value - baseline_median) / (1.4826 * greatest(baseline_mad, min_relative_mad * abs(baseline_median)))
        end as robust_z

    from scored

),

final as (

    select
        {{ surrogate_key(['workspace_id', 'platform', 'account_id', 'campaign_id', 'metric', 'date_day']) }} as anomaly_id,
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        currency,
        entity_type,
        entity_id,
        metric,
        cast(value as {{ dbt.type_float() }}) as value,
        cast(baseline_median as {{ dbt.type_float() }}) as baseline_median,
        cast(baseline_mad as {{ dbt.type_float() }}) as baseline_mad,
        cast(robust_sigma as {{ dbt.type_float() }}) as robust_sigma,
        cast(robust_z as {{ dbt.type_float() }}) as robust_z,
        history_days,
        scoring_method,
        cast(z_threshold as {{ dbt.type_float() }}) as z_threshold,
        direction,
        is_scored,
        coalesce(
            case direction
                when 'up' then robust_z > z_threshold
                when 'down' then robust_z < -z_threshold
            end,
            false
        ) as is_anomaly

    from z_scores

)

select * from final
