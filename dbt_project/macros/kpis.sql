{#-
    KPI definitions, defined once. Every model computes KPIs through these
    macros. Arguments are SQL expressions; pass sums (daily or windowed) so a
    KPI is always a ratio of sums, never an average of ratios. A zero or null
    denominator gives null. Ratios are double precision: one correctly rounded
    division of the exact sums.
-#}

{% macro safe_divide(numerator, denominator) -%}
    (cast({{ numerator }} as {{ dbt.type_float() }}) / nullif(cast({{ denominator }} as {{ dbt.type_float() }}), 0))
{%- endmacro %}

{# CTR: clicks / impressions #}
{% macro ctr(clicks, impressions) -%}
    {{ safe_divide(clicks, impressions) }}
{%- endmacro %}

{# CPC: spend / clicks #}
{% macro cpc(spend, clicks) -%}
    {{ safe_divide(spend, clicks) }}
{%- endmacro %}

{# CPM: spend / impressions * 1000 #}
{% macro cpm(spend, impressions) -%}
    {{ safe_divide('(' ~ spend ~ ') * 1000', impressions) }}
{%- endmacro %}

{# CVR: conversions / clicks #}
{% macro cvr(conversions, clicks) -%}
    {{ safe_divide(conversions, clicks) }}
{%- endmacro %}

{# CPA: spend / conversions #}
{% macro cpa(spend, conversions) -%}
    {{ safe_divide(spend, conversions) }}
{%- endmacro %}

{# ROAS: conversion_value / spend #}
{% macro roas(conversion_value, spend) -%}
    {{ safe_divide(conversion_value, spend) }}
{%- endmacro %}

{# ACOS: spend / conversion_value #}
{% macro acos(spend, conversion_value) -%}
    {{ safe_divide(spend, conversion_value) }}
{%- endmacro %}

{# The seven ratios of the measure columns with a suffix (`_7d`, `_prev_28d`, or none), in the marts' column order. #}
{% macro kpi_ratio_columns(suffix='') -%}
        {{ ctr('clicks' ~ suffix, 'impressions' ~ suffix) }} as ctr{{ suffix }},
        {{ cpc('spend' ~ suffix, 'clicks' ~ suffix) }} as cpc{{ suffix }},
        {{ cpm('spend' ~ suffix, 'impressions' ~ suffix) }} as cpm{{ suffix }},
        {{ cvr('conversions' ~ suffix, 'clicks' ~ suffix) }} as cvr{{ suffix }},
        {{ cpa('spend' ~ suffix, 'conversions' ~ suffix) }} as cpa{{ suffix }},
        {{ roas('conversion_value' ~ suffix, 'spend' ~ suffix) }} as roas{{ suffix }},
        {{ acos('spend' ~ suffix, 'conversion_value' ~ suffix) }} as acos{{ suffix }}
{%- endmacro %}
