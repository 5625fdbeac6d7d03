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
