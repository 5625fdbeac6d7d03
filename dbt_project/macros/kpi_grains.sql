{#-
    KPIs at a grain coarser than the campaign, the whole model's SQL: the
    fact's daily sums per `keys` (money in the account's currency, or with
    `reporting_currency` in the workspace's reporting currency), their calendar
    windows (var `kpi_grain_windows`: suffix -> days) and each window's
    previous period (the same number of days just before it), and every ratio
    from those sums through the KPI macros (never an average of daily or
    campaign ratios). Impressions and clicks stay whole numbers (bigint).
-#}
{% macro kpis_at_grain(keys, reporting_currency=false) -%}
{%- set windows = var('kpi_grain_windows') -%}
{%- set measures = ['spend', 'impressions', 'clicks', 'conversions', 'conversion_value'] -%}
{%- set counts = ['impressions', 'clicks'] -%}
{%- set money = '_reporting' if reporting_currency else '' -%}
with

daily as (

    select
        date_day,
        {%- for key in keys %}
        {{ key }},
        {%- endfor %}
        max({{ 'reporting_currency' if reporting_currency else 'currency' }}) as currency,
        sum(spend{{ money }}) as spend,
        cast(sum(impressions) as {{ dbt.type_bigint() }}) as impressions,
        cast(sum(clicks) as {{ dbt.type_bigint() }}) as clicks,
        sum(conversions) as conversions,
        sum(conversion_value{{ money }}) as conversion_value

    from {{ ref('fct_ad_performance_daily') }}
    group by date_day, {{ keys | join(', ') }}

),

windowed_sums as (
{%- set sums = [] -%}
{%- for suffix, days in windows.items() -%}
{%- for measure in measures -%}
{%- set cast_to = dbt.type_bigint() if measure in counts else none -%}
{%- for name, offset in [(measure ~ '_' ~ suffix, 0), (measure ~ '_prev_' ~ suffix, days)] -%}
{%- set total = 'sum(' ~ measure ~ ') ' ~ trailing_days_window(keys, 'date_day', days, offset_days=offset) -%}
{%- do sums.append(('cast(' ~ total ~ ' as ' ~ cast_to ~ ')' if cast_to else total) ~ ' as ' ~ name) -%}
{%- endfor -%}
{%- endfor -%}
{%- endfor %}

    select
        *,
        {{ sums | join(',\n        ') }}

    from daily

),

kpis as (

    select
        date_day,
        {%- for key in keys %}
        {{ key }},
        {%- endfor %}
        currency,
        {%- for measure in measures %}
        {{ measure }},
        {%- endfor %}
        {{ kpi_ratio_columns() }},
        {%- for suffix in windows %}
        {%- for measure in measures %}
        {{ measure }}_{{ suffix }},
        {%- endfor %}
        {{ kpi_ratio_columns('_' ~ suffix) }},
        {%- for measure in measures %}
        {{ measure }}_prev_{{ suffix }},
        {%- endfor %}
        {{ kpi_ratio_columns('_prev_' ~ suffix) }}{{ ',' if not loop.last else '' }}
        {%- endfor %}

    from windowed_sums

)

select * from kpis
{%- endmacro %}
