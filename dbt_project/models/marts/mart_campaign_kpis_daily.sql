{#-
    KPIs per campaign and day, plus trailing 7- and 28-day windows and
    week-over-week change. Every ratio is a ratio of sums over the day or the
    window (never an average of daily ratios), through the KPI macros. Windows
    are calendar ranges ending on the row's day: a day without a row does not
    stretch them. Amounts are in the account currency.

    Incremental: a daily run recomputes the rows from
    `incremental_changed_from()` on, reading the fact from `window_reach_days`
    earlier (the longest window, 28 days, reaches back 27 days before its own
    day; the previous-7-day window 13), so every window a re-pulled day feeds
    is recomputed; the days are then replaced whole (macros/incremental.sql).
    `dbt build --full-refresh` rebuilds everything and gives the same rows.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_date_range',
        unique_key=['date_day', 'workspace_id', 'platform', 'account_id', 'campaign_id'],
        on_schema_change='fail',
        indexes=[
            {'columns': ['date_day']},
            {'columns': ['workspace_id', 'platform', 'date_day']},
        ],
        post_hook=["{{ record_incremental_watermark() }}", "{{ refresh_is_active() }}"],
    )
}}
-- depends_on: {{ ref('stg_ops__workspace_accounts') }}
{%- set campaign_key = ['workspace_id', 'platform', 'account_id', 'campaign_id'] -%}
{%- set measures = ['spend', 'impressions', 'clicks', 'conversions', 'conversion_value'] -%}
{%- set windows = {'7d': 7, '28d': 28} -%}
{#- Days before a row that its windows read: the longest window, or the previous 7 days before the last 7. -#}
{%- set window_reach_days = [windows.values() | max, 14] | max - 1 -%}
{%- if is_incremental() -%}
    {%- set changed_from = incremental_changed_from() -%}
{%- endif %}

with

fct_ad_performance_daily as (

    select * from {{ ref('fct_ad_performance_daily') }}
    {%- if is_incremental() %}
    where date_day >= {{ dbt.dateadd('day', -window_reach_days, "cast('" ~ changed_from ~ "' as date)") }}
    {%- endif %}

),

windowed_sums as (

    select
        *,
        {%- for suffix, days in windows.items() %}
        {%- for measure in measures %}
        sum({{ measure }}) {{ trailing_days_window(campaign_key, 'date_day', days) }} as {{ measure }}_{{ suffix }},
        {%- endfor %}
        {%- endfor %}
        sum(spend) {{ trailing_days_window(campaign_key, 'date_day', 7, offset_days=7) }} as spend_prev_7d,
        sum(conversion_value) {{ trailing_days_window(campaign_key, 'date_day', 7, offset_days=7) }} as conversion_value_prev_7d

    from fct_ad_performance_daily

),

kpis as (

    select
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        currency,
        reporting_currency,
        spend,
        spend_reporting,
        impressions,
        clicks,
        conversions,
        conversion_value,
        conversion_value_reporting,
        {{ kpi_ratio_columns() }},
        {%- for suffix in windows %}
        {%- for measure in measures %}
        {{ measure }}_{{ suffix }},
        {%- endfor %}
        {{ kpi_ratio_columns('_' ~ suffix) }},
        {%- endfor %}
        spend_prev_7d,
        {{ roas('conversion_value_prev_7d', 'spend_prev_7d') }} as roas_prev_7d,
        is_active

    from windowed_sums

),

final as (

    select
        *,
        {{ safe_divide('spend_7d - spend_prev_7d', 'spend_prev_7d') }} as spend_wow_change,
        {{ safe_divide('roas_7d - roas_prev_7d', 'roas_prev_7d') }} as roas_wow_change

    from kpis
    {%- if is_incremental() %}
    where date_day >= cast('{{ changed_from }}' as date)
    {%- endif %}

)

select * from final
