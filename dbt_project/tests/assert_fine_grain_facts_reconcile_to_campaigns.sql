-- Each finer-grain fact (ad groups, ads) adds up to the campaign fact: per
-- campaign-day of every account-day the finer fact reports, impressions,
-- clicks and conversions are equal and money (spend, conversion value, in the
-- account and the reporting currency) is within 0.01. A campaign-day missing
-- from either side is a mismatch too. Platforms (or days) without the finer
-- grain are not compared. Returns one row per mismatching campaign-day.

{%- set fine_facts = ['fct_ad_group_performance_daily', 'fct_ad_performance_ad_daily'] -%}
{%- set counts = ['impressions', 'clicks', 'conversions'] -%}
{%- set money = ['spend', 'spend_reporting', 'conversion_value', 'conversion_value_reporting'] -%}
{%- set campaign_key = ['date_day', 'workspace_id', 'platform', 'account_id', 'campaign_id'] %}

with

fct_ad_performance_daily as (

    select * from {{ ref('fct_ad_performance_daily') }}

),

{% for fact in fine_facts %}
{{ fact }} as (

    select * from {{ ref(fact) }}

),

{{ fact }}_by_campaign as (

    select
        {{ campaign_key | join(',\n        ') }},
        {%- for metric in counts + money %}
        sum({{ metric }}) as {{ metric }}{{ ',' if not loop.last }}
        {%- endfor %}

    from {{ fact }}
    group by {{ campaign_key | join(', ') }}

),

{{ fact }}_account_days as (

    select distinct date_day, workspace_id, platform, account_id
    from {{ fact }}

),

{{ fact }}_campaigns as (

    select campaigns.*
    from fct_ad_performance_daily as campaigns
    inner join {{ fact }}_account_days as account_days
        on
            campaigns.date_day = account_days.date_day
            and campaigns.workspace_id = account_days.workspace_id
            and campaigns.platform = account_days.platform
            and campaigns.account_id = account_days.account_id

),

{{ fact }}_mismatches as (

    select
        '{{ fact }}' as fine_fact,
        {%- for column in campaign_key %}
        coalesce(campaigns.{{ column }}, fine.{{ column }}) as {{ column }},
        {%- endfor %}
        {%- for metric in counts + money %}
        campaigns.{{ metric }} as campaign_{{ metric }},
        fine.{{ metric }} as fine_{{ metric }}{{ ',' if not loop.last }}
        {%- endfor %}

    from {{ fact }}_campaigns as campaigns
    full outer join {{ fact }}_by_campaign as fine
        on
            {%- for column in campaign_key %}
            {{ 'and ' if not loop.first }}campaigns.{{ column }} = fine.{{ column }}
            {%- endfor %}
    where
        campaigns.campaign_id is null
        or fine.campaign_id is null
        {%- for metric in counts %}
        or campaigns.{{ metric }} != fine.{{ metric }}
        {%- endfor %}
        {%- for metric in money %}
        or abs(campaigns.{{ metric }} - fine.{{ metric }}) > 0.01
        {%- endfor %}

),

{% endfor %}
final as (

{% for fact in fine_facts %}
    select * from {{ fact }}_mismatches
{% if not loop.last %}
    union all
{% endif %}
{% endfor %}
)

select * from final
