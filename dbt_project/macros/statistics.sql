{#- Ordered-set aggregates used for robust baselines (median, MAD). -#}

{% macro percentile_cont(expression, fraction) -%}
    {{ return(adapter.dispatch('percentile_cont', 'ads_elt')(expression, fraction)) }}
{%- endmacro %}

{% macro default__percentile_cont(expression, fraction) -%}
    percentile_cont({{ fraction }}) within group (order by {{ expression }})
{%- endmacro %}

{% macro median(expression) -%}
    {{ percentile_cont(expression, 0.5) }}
{%- endmacro %}
