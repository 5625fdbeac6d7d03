{#-
    Campaign attributes from the platforms' campaign lists (entity lists), for
    the platforms whose performance reports carry no campaign name (Snapchat,
    LinkedIn). One row per workspace, platform, account and campaign.
    `int_ad_performance_unioned` takes the name from here when the report has
    none, and the campaign group (LinkedIn) from here always.
-#}

{%- set campaign_models = [
    'stg_snapchat__campaigns',
    'int_linkedin_campaigns_grouped',
] -%}
{%- set group_columns = {
    'int_linkedin_campaigns_grouped': ['campaign_group_id', 'campaign_group_name'],
} -%}

with

{% for model in campaign_models %}
{{ model }} as (

    select * from {{ ref(model) }}

),

{% endfor %}
unioned as (

{% for model in campaign_models %}
    select
        workspace_id,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        {%- for column in ['campaign_group_id', 'campaign_group_name'] %}
        {% if column in group_columns.get(model, []) %}{{ column }}{% else %}cast(null as {{ dbt.type_string() }}) as {{ column }}{% endif %}{{ ',' if not loop.last }}
        {%- endfor %}

    from {{ model }}
{% if not loop.last %}
    union all

{% endif %}
{% endfor %}
),

final as (

    select * from unioned

)

select * from final
