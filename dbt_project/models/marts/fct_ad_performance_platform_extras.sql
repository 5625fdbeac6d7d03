{#-
    Platform-specific metrics kept for fidelity, keyed like
    fct_ad_performance_daily (same ad_performance_id): one row per campaign-day
    of the platforms that report any. A metric a platform does not report is
    null, never 0.

    `extra_columns` lists the metrics and their types. A platform reports the
    ones its campaign-day model (var `ad_performance_models`) has among its
    YAML columns (reach, video views and quartiles, swipes); `frequency` is
    impressions / reach where there is reach, and the ACOS inputs are spend and
    conversion value where the model's YAML says `meta: reports_acos`. The
    columns are read from the graph, so while dbt parses every campaign-day
    model is referenced (a dependency at most unused), and the SQL is the real
    one once the graph exists.
-#}
{%- set extra_columns = [
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
] -%}
{%- set platforms = [] -%}
{%- for model in ad_performance_models('campaign_day') -%}
    {%- do ref(model) -%}
    {%- set node = model_node(model) -%}
    {%- set expressions = {} -%}
    {%- if node is not none -%}
        {%- for column, _ in extra_columns if column in node.columns -%}
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
{%- endfor %}

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
