{#-
    KPIs at a grain coarser than the campaign: daily sums of the fact per
    `keys`, their calendar windows (`windows`: suffix -> days) and each
    window's previous period (the same number of days just before it), and
    every ratio from those sums through the KPI macros (never an average of
    daily or campaign ratios).

    `daily` is a CTE name whose rows are one per day and key with the five
    measures (spend, impressions, clicks, conversions, conversion_value) in one
    currency, and `currency`. Emits the remaining CTEs and the final select.
    Impressions and clicks stay whole numbers (bigint) in every window.
-#}
{% macro kpi_ratio_columns(suffix='') -%}
        {{ ctr('clicks' ~ suffix, 'impressions' ~ suffix) }} as ctr{{ suffix }},
        {{ cpc('spend' ~ suffix, 'clicks' ~ suffix) }} as cpc{{ suffix }},
        {{ cpm('spend' ~ suffix, 'impressions' ~ suffix) }} as cpm{{ suffix }},
        {{ cvr('conversions' ~ suffix, 'clicks' ~ suffix) }} as cvr{{ suffix }},
        {{ cpa('spend' ~ suffix, 'conversions' ~ suffix) }} as cpa{{ suffix }},
        {{ roas('conversion_value' ~ suffix, 'spend' ~ suffix) }} as roas{{ suffix }},
        {{ acos('spend' ~ suffix, 'conversion_value' ~ suffix) }} as acos{{ suffix }}
{%- endmacro %}

{% macro kpis_at_grain(daily, keys, windows) -%}
{%- set measures = ['spend', 'impressions', 'clicks', 'conversions', 'conversion_value'] -%}
{%- set counts = ['impressions', 'clicks'] -%}
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

    from {{ daily }}

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
