{#-
    Platform-specific metrics kept for fidelity, keyed like
    fct_ad_performance_daily (same ad_performance_id): one row per campaign-day
    of the platforms that report any. A metric a platform does not report is
    null, never 0.

    The metrics, their types and which platform reports which come from
    `platform_extra_columns` and `platform_extra_metrics` (macros/unions.sql):
    a platform reports the ones its campaign-day model has among its YAML
    columns, read from the graph, so the SQL is the real one once the graph
    exists.
-#}
{%- set extra_columns = platform_extra_columns() -%}
{#- While dbt parses, the graph is not there yet: every campaign-day model is referenced (a dependency at most unused). -#}
{%- for model in ad_performance_models('campaign_day') -%}
    {%- do ref(model) -%}
{%- endfor -%}
{%- set platforms = platform_extra_metrics() %}

with

{% for model, _ in platforms -%}
{{ model }} as (

    select * from {{ ref(model) }}

),

{% endfor -%}

unioned as (

    {%- for model, expressions in platforms %}

    select
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        {%- for column, type in extra_columns %}
        {{ expressions.get(column) or 'cast(null as ' ~ type ~ ')' }} as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}

    from {{ model }}
    {%- if not loop.last %}

    union all
    {%- endif %}
    {%- endfor %}

),

final as (

    select
        {{ surrogate_key(['date_day', 'workspace_id', 'platform', 'account_id', 'campaign_id']) }} as ad_performance_id,
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        {%- for column, _ in extra_columns %}
        {{ column }},
        {%- endfor %}
        {{ acos('acos_spend', 'acos_sales') }} as acos

    from unioned

)

select * from final
