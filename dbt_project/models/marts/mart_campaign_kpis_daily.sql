{#-
    KPIs per campaign and day, plus trailing 7- and 28-day windows and
    week-over-week change. Every ratio is a ratio of sums over the day or the
    window (never an average of daily ratios), through the KPI macros. Windows
    are calendar ranges ending on the row's day: a day without a row does not
    stretch them. Amounts are in the account currency.
-#}
{%- set campaign_key = ['workspace_id', 'platform', 'account_id', 'campaign_id'] -%}
{%- set measures = ['spend', 'impressions', 'clicks', 'conversions', 'conversion_value'] -%}
{%- set windows = {'7d': 7, '28d': 28} -%}

with

fct_ad_performance_daily as (

    select * from {{ ref('fct_ad_performance_daily') }}

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
        {{ ctr('clicks', 'impressions') }} as ctr,
        {{ cpc('spend', 'clicks') }} as cpc,
        {{ cpm('spend', 'impressions') }} as cpm,
        {{ cvr('conversions', 'clicks') }} as cvr,
        {{ cpa('spend', 'conversions') }} as cpa,
        {{ roas('conversion_value', 'spend') }} as roas,
        {{ acos('spend', 'conversion_value') }} as acos,
        {%- for suffix in windows %}
        {%- for measure in measures %}
        {{ measure }}_{{ suffix }},
        {%- endfor %}
        {{ ctr('clicks_' ~ suffix, 'impressions_' ~ suffix) }} as ctr_{{ suffix }},
        {{ cpc('spend_' ~ suffix, 'clicks_' ~ suffix) }} as cpc_{{ suffix }},
        {{ cpm('spend_' ~ suffix, 'impressions_' ~ suffix) }} as cpm_{{ suffix }},
        {{ cvr('conversions_' ~ suffix, 'clicks_' ~ suffix) }} as cvr_{{ suffix }},
        {{ cpa('spend_' ~ suffix, 'conversions_' ~ suffix) }} as cpa_{{ suffix }},
        {{ roas('conversion_value_' ~ suffix, 'spend_' ~ suffix) }} as roas_{{ suffix }},
        {{ acos('spend_' ~ suffix, 'conversion_value_' ~ suffix) }} as acos_{{ suffix }},
        {%- endfor %}
        spend_prev_7d,
        {{ roas('conversion_value_prev_7d', 'spend_prev_7d') }} as roas_prev_7d

    from windowed_sums

),

final as (

    select
        *,
        {{ safe_divide('spend_7d - spend_prev_7d', 'spend_prev_7d') }} as spend_wow_change,
        {{ safe_divide('roas_7d - roas_prev_7d', 'roas_prev_7d') }} as roas_wow_change

    from kpis

)

select * from final
