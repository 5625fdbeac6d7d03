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

{#-
    The chance spread (one standard deviation) of the conversion value that
    `expected_conversions` would bring: Poisson counts of orders whose value
    varies by about a third around `average_order_value` (sd = average order
    value x sqrt(1.12 x expected conversions)), times a campaign's own
    `dispersion` (how many times that variance it really varies by; 1 for the
    chance spread alone).
-#}
{% macro value_chance_spread(average_order_value, expected_conversions, dispersion='1') -%}
    {{ average_order_value }} * sqrt(1.12 * ({{ expected_conversions }}) * {{ dispersion }})
{%- endmacro %}
