{#-
    One row per calendar day from start_date to end_date, both included, in a
    column `date_day`. Both bounds are 'YYYY-MM-DD' literals.
-#}
{% macro date_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('date_spine', 'ads_elt')(start_date, end_date)) }}
{%- endmacro %}

{% macro postgres__date_spine(start_date, end_date) -%}
    select
        cast(day_series as date) as date_day
    from generate_series(
        cast('{{ start_date }}' as date),
        cast('{{ end_date }}' as date),
        interval '1 day'
    ) as day_series
{%- endmacro %}

{% macro default__date_spine(start_date, end_date) -%}
    {#- Portable fallback: day offsets from cross-joined digits. -#}
    {%- set start = modules.datetime.date.fromisoformat(start_date) -%}
    {%- set end = modules.datetime.date.fromisoformat(end_date) -%}
    {%- set day_count = (end - start).days + 1 -%}
    {%- set digit_count = (day_count | string) | length -%}
    with digits as (
        {% for digit in range(10) -%}
        select {{ digit }} as digit{% if not loop.last %} union all{% endif %}
        {% endfor %}
    ),

    offsets as (
        select
            {% for position in range(digit_count) -%}
            d{{ position }}.digit * {{ 10 ** position }}{% if not loop.last %} +{% endif %}
            {% endfor %} as day_offset
        from
            {% for position in range(digit_count) -%}
            digits as d{{ position }}{% if not loop.last %} cross join{% endif %}
            {% endfor %}
    )

    select
        cast({{ dbt.dateadd('day', 'day_offset', "cast('" ~ start_date ~ "' as date)") }} as date) as date_day
    from offsets
    where day_offset < {{ day_count }}
{%- endmacro %}
