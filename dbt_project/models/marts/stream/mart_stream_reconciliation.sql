{#-
    The stream against the daily report: per campaign and profile-local day, the hourly sums of
    fct_ad_performance_hourly beside the day's row of fct_ad_performance_daily, with the
    difference in percent (stream minus daily, over daily). A day the stream has only part of
    (`is_complete_day` false: today so far, or hours not received) is listed but not expected
    to match; `within_tolerance` says whether every metric of a complete day is within
    var `stream_reconciliation_tolerance` (2%) of the daily report.
-#}

{%- set metrics = ['spend', 'impressions', 'clicks', 'conversions', 'conversion_value'] %}

with

hourly as (

    select * from {{ ref('fct_ad_performance_hourly') }}

),

daily as (

    select * from {{ ref('fct_ad_performance_daily') }}
    where platform = 'amazon_ads'

),

accounts as (

    select * from {{ ref('stg_ops__workspace_accounts') }}
    where platform = 'amazon_ads'

),

stream_days as (

    select
        date_day, workspace_id, account_id, campaign_id,
        count(distinct hour_start_utc) as stream_hours,
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
