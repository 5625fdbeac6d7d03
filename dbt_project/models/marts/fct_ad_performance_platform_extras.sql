{#-
    Platform-specific metrics kept for fidelity, keyed like
    fct_ad_performance_daily (same ad_performance_id): one row per campaign-day
    of the platforms that report any (Meta reach and frequency, TikTok and
    Snapchat video views and quartiles, Snapchat swipes, Amazon's ACOS inputs).
    A metric a platform does not report is null, never 0.

    `extra_columns` lists the metrics and their types; `platforms` maps each
    staging model to the expressions of the metrics it reports (every other
    metric is a typed null). A platform that starts reporting one is a line here.
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
{%- set video_views = {} -%}
{%- for column in ['video_views', 'video_views_p25', 'video_views_p50', 'video_views_p75', 'video_views_p100'] -%}
    {%- do video_views.update({column: column}) -%}
{%- endfor -%}
{%- set snapchat = {'swipes': 'swipes'} -%}
{%- do snapchat.update(video_views) -%}
{%- set platforms = [
    ('stg_meta__insights', {'reach': 'reach', 'frequency': safe_divide('impressions', 'reach')}),
    ('stg_tiktok__campaign_report', video_views),
    ('stg_snapchat__campaign_stats', snapchat),
    ('stg_amazon_ads__sp_campaigns', {'acos_spend': 'spend', 'acos_sales': 'conversion_value'}),
] %}

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
