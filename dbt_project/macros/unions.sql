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
    The ad platforms' performance models at a grain (`campaign_day`,
    `ad_group_day`, `ad_day`): var `ad_performance_models`, so that the refs
    of the models iterating them are known while dbt parses. When the graph
    exists (compiling, running) the list is checked against the models that
    declare the grain in their YAML (`config: meta: ad_performance_grains`):
    a platform's model declaring it but missing from the var, or the
    reverse, fails the compilation with both names.
-#}
{% macro ad_performance_models(grain) -%}
{%- set listed = var('ad_performance_models')[grain] -%}
{%- if execute -%}
    {%- set declared = [] -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
        {%- if grain in (node.config.get('meta') or {}).get('ad_performance_grains', []) -%}
            {%- do declared.append(node.name) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if declared | sort != listed | sort -%}
        {{ exceptions.raise_compiler_error(
            "The " ~ grain ~ " models of var ad_performance_models " ~ (listed | sort)
            ~ " differ from those whose YAML declares the grain (meta ad_performance_grains) " ~ (declared | sort)
        ) }}
    {%- endif -%}
{%- endif -%}
{{ return(listed) }}
{%- endmacro %}


{#-
    The graph node of a model (its YAML columns and meta), or none while parsing.
-#}
{% macro model_node(model_name) -%}
{%- if execute -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' and node.name == model_name -%}
        {{ return(node) }}
    {%- endfor -%}
{%- endif -%}
{{ return(none) }}
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
