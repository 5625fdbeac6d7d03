{#- Micro-units (Google Ads `costMicros`) to major units, exact, without trailing zeros. -#}
{% macro micros_to_units(expression) -%}
    {{ return(adapter.dispatch('micros_to_units', 'ads_elt')(expression)) }}
{%- endmacro %}

{% macro postgres__micros_to_units(expression) -%}
    trim_scale(cast({{ expression }} as numeric) / 1000000)
{%- endmacro %}

{% macro default__micros_to_units(expression) -%}
    (cast({{ expression }} as numeric) / 1000000)
{%- endmacro %}

{#-
    A metric sent as text that may be a placeholder for "missing" ("-" or an
    empty string). Null for those, the numeric otherwise.
-#}
{% macro numeric_or_null(expression) -%}
    cast(nullif(nullif(trim({{ expression }}), '-'), '') as numeric)
{%- endmacro %}
