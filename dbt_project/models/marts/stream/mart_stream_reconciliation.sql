{#-
    The stream against the daily report: per campaign and profile-local day, the hourly sums of
    fct_ad_performance_hourly beside the day's row of fct_ad_performance_daily, with the
    difference in percent (stream minus daily, over daily). A day the stream has only part of
    (`is_complete_day` false: today so far, or hours not received) is listed but not expected
    to match; `within_tolerance` says whether every metric of a complete day is within
    var `stream_reconciliation_tolerance` (2%) of the daily report.

    Incremental: an hourly run rebuilds the days from the earliest that can have changed on, and
    swaps them in (`replace_date_range`). That is the earliest of the profile-local days of the
    hourly rows that received a record since the last build (the target's latest
    `stream_last_received_at`, less `incremental_watermark_margin_hours`) and the daily
    report's `incremental_changed_from()` (the last `incremental_lookback_days`, and every day
    a load finished since the last build reached). Stream records are never removed, so the
    earlier days' rows stay as a full refresh would give them (tests/test_marketing_stream.py).
    A table built before `stream_last_received_at` existed has no watermark: its first incremental
    run rebuilds every day and adds the column.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_date_range',
        unique_key='reconciliation_id',
        on_schema_change='append_new_columns',
        post_hook="{{ record_incremental_watermark() }}",
    )
}}

{%- set metrics = ['spend', 'impressions', 'clicks', 'conversions', 'conversion_value'] %}

with

{% if is_incremental() -%}
changed_from as (

    select least(
        date '{{ incremental_changed_from() }}',
        (
            select min(hourly.date_day)
            from {{ ref('fct_ad_performance_hourly') }} as hourly
            {%- if 'stream_last_received_at' in adapter.get_columns_in_relation(this) | map(attribute='name') %}
            where hourly.last_received_at > (
                select coalesce(max(stream_last_received_at), '-infinity')
                    - interval '{{ var('incremental_watermark_margin_hours', 1) | int }} hours'
                from {{ this }}
            )
            {%- endif %}
        )
    ) as first_day

),

{% endif -%}
hourly as (

    select * from {{ ref('fct_ad_performance_hourly') }}
    {%- if is_incremental() %}
    where date_day >= (select first_day from changed_from)
    {%- endif %}

),

daily as (

    select * from {{ ref('fct_ad_performance_daily') }}
    where
        platform = 'amazon_ads'
        {%- if is_incremental() %}
        and date_day >= (select first_day from changed_from)
        {%- endif %}

),

accounts as (

    select * from {{ ref('stg_ops__workspace_accounts') }}
    where platform = 'amazon_ads'

),

stream_days as (

    select
        date_day, workspace_id, account_id, campaign_id,
        count(distinct hour_start_utc) as stream_hours,
        max(last_received_at) as stream_last_received_at,
        {%- for m in metrics %}
        sum({{ m }}) as stream_{{ m }}{{ "," if not loop.last }}
        {%- endfor %}

    from hourly
    group by date_day, workspace_id, account_id, campaign_id

),

compared as (

    select
        s.date_day,
        s.workspace_id,
        'amazon_ads' as platform,
        s.account_id,
        s.campaign_id,
        d.campaign_name,
        s.stream_hours,
        s.stream_last_received_at,
        -- the hours of the profile-local day: 23 or 25 on the days clocks change
        cast(extract(epoch from (
            timezone(a.timezone, cast(s.date_day + 1 as timestamp)) - timezone(a.timezone, cast(s.date_day as timestamp))
        )) / 3600 as integer) as day_hours,
        d.date_day is not null as has_daily_report,
        {%- for m in metrics %}
        s.stream_{{ m }},
        d.{{ m }} as daily_{{ m }},
        case
            when d.{{ m }} is null then null
            when d.{{ m }} = 0 then case when s.stream_{{ m }} = 0 then 0 end
            else round(cast(100.0 * (s.stream_{{ m }} - d.{{ m }}) / d.{{ m }} as numeric), 3)
        end as {{ m }}_diff_pct{{ "," if not loop.last }}
        {%- endfor %}

    from stream_days as s
    inner join accounts as a
        on s.workspace_id = a.workspace_id and s.account_id = a.account_id
    left join daily as d
        on
            s.workspace_id = d.workspace_id
            and s.account_id = d.account_id
            and s.campaign_id = d.campaign_id
            and s.date_day = d.date_day

),

final as (

    select
        {{ surrogate_key(['date_day', 'workspace_id', 'account_id', 'campaign_id']) }} as reconciliation_id,
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        cast(stream_hours as integer) as stream_hours,
        stream_last_received_at,
        day_hours,
        stream_hours >= day_hours as is_complete_day,
        has_daily_report,
        {%- for m in metrics %}
        cast(stream_{{ m }} as numeric) as stream_{{ m }},
        cast(daily_{{ m }} as numeric) as daily_{{ m }},
        {{ m }}_diff_pct,
        {%- endfor %}
        stream_hours >= day_hours and has_daily_report
        {%- for m in metrics %}
        and coalesce(abs({{ m }}_diff_pct), 100) <= {{ var('stream_reconciliation_tolerance') }} * 100
        {%- endfor %} as within_tolerance

    from compared

)

select * from final
