{#-
    Import CTEs for the given models and a CTE `unioned` stacking their
    canonical columns (every model must have them all), for the
    `int_<entity>_unioned` models:

        with
        {{ union_models_ctes(models, columns) }},
        next_step as (select ... from unioned)
-#}
{% macro union_models_ctes(models, columns) -%}
{% for model in models %}
{{ model }} as (

    select * from {{ ref(model) }}

),

{% endfor %}
unioned as (

{% for model in models %}
    select
        {{ columns | join(',\n        ') }}

    from {{ model }}
{% if not loop.last %}
    union all

{% endif %}
{% endfor %}
)
{%- endmacro %}


{#-
    Conversion to the workspace's reporting currency through the daily FX
    table (a cross rate over USD). `fx_rate_joins` adds the two rate joins
    to a relation with `currency` and `reporting_currency`; `fx_rate_to_reporting`
    is the rate (1 when the currencies are equal, null when a rate is missing).
-#}
{% macro fx_rate_joins(alias, date_column, fx_relation='int_fx_rates_daily') -%}
    left join {{ fx_relation }} as currency_fx
        on
            {{ alias }}.{{ date_column }} = currency_fx.date_day
            and {{ alias }}.currency = currency_fx.currency_code
    left join {{ fx_relation }} as reporting_fx
        on
            {{ alias }}.{{ date_column }} = reporting_fx.date_day
            and {{ alias }}.reporting_currency = reporting_fx.currency_code
{%- endmacro %}

{% macro fx_rate_to_reporting(alias) -%}
    case
        when {{ alias }}.currency = {{ alias }}.reporting_currency then 1
        else currency_fx.usd_per_unit / reporting_fx.usd_per_unit
    end
{%- endmacro %}
