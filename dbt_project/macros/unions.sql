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
    The ad platforms' names: the staging folder (`models/staging/<platform>/`)
    of each campaign-day model of var `ad_performance_models`, in its order;
    with `reporting_extras`, only those `platform_extra_metrics` has metrics
    for. Empty while dbt parses.
-#}
{% macro ad_platforms(reporting_extras=false) -%}
{%- set models = platform_extra_metrics() | map(attribute=0) | list if reporting_extras else ad_performance_models('campaign_day') -%}
{%- set names = [] -%}
{%- for model in models -%}
    {%- set node = model_node(model) -%}
    {%- if node is not none -%}
        {%- if node.fqn[1] != 'staging' -%}
            {{ exceptions.raise_compiler_error("campaign-day model " ~ model ~ " is not in a platform's staging folder (models/staging/<platform>/)") }}
        {%- endif -%}
        {%- do names.append(node.fqn[-2]) -%}
    {%- endif -%}
{%- endfor -%}
{{ return(names) }}
{%- endmacro %}


{#-
    The platform-specific metrics of fct_ad_performance_platform_extras and
    their types.
-#}
{% macro platform_extra_columns() -%}
{{ return([
    ('reach', 'bigint'),
    ('frequency', dbt.type_float()),
    ('video_views', 'bigint'),
    ('video_views_p25', 'bigint'),
    ('video_views_p50', 'bigint'),
    ('video_views_p75', 'bigint'),
    ('video_views_p100', 'bigint'),
    ('swipes', 'bigint'),
    ('acos_spend', 'numeric'),
    ('acos_sales', 'numeric'),
]) }}
{%- endmacro %}


{#-
    Which campaign-day models report which platform-specific metrics:
    [(model, {column: expression})] for the models that report any. A model
    reports the `platform_extra_columns` it has among its YAML columns;
    `frequency` is impressions / reach where there is reach, and the ACOS
    inputs are spend and conversion value where its YAML says
    `meta: reports_acos`. Empty while dbt parses (read from the graph).
-#}
{% macro platform_extra_metrics() -%}
{%- set platforms = [] -%}
{%- for model in ad_performance_models('campaign_day') -%}
    {%- set node = model_node(model) -%}
    {%- set expressions = {} -%}
    {%- if node is not none -%}
        {%- for column, _ in platform_extra_columns() if column in node.columns -%}
            {%- do expressions.update({column: column}) -%}
        {%- endfor -%}
        {%- if 'reach' in expressions -%}
            {%- do expressions.update({'frequency': safe_divide('impressions', 'reach')}) -%}
        {%- endif -%}
        {%- if (node.config.get('meta') or {}).get('reports_acos') -%}
            {%- do expressions.update({'acos_spend': 'spend', 'acos_sales': 'conversion_value'}) -%}
        {%- endif -%}
    {%- endif -%}
    {%- if expressions -%}
        {%- do platforms.append((model, expressions)) -%}
    {%- endif -%}
{%- endfor -%}
{{ return(platforms) }}
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


{#-
    The performance columns of a fact at any grain, after its row was
    converted (`fx_rate_to_reporting` set): the metrics in the account's
    currency and spend and conversion value in the reporting currency, so the
    campaign fact and the finer facts convert with one formula and sum to
    each other.
-#}
{% macro converted_performance_columns() -%}
        currency,
        reporting_currency,
        fx_rate_to_reporting,
        spend,
        spend * fx_rate_to_reporting as spend_reporting,
        impressions,
        clicks,
        conversions,
        conversion_value,
        conversion_value * fx_rate_to_reporting as conversion_value_reporting,
        is_active
{%- endmacro %}
