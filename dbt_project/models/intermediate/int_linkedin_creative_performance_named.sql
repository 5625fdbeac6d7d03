{#-
    LinkedIn creative x day performance with its campaign and names.

    LinkedIn's hierarchy is campaign group > campaign > creative: the group is
    an attribute of the campaign (`int_linkedin_campaigns_grouped`), and the
    creative, an ad, is the only grain under the campaign. Here the creative
    is both the ad (`ad_id`, `ad_name`) and, since LinkedIn has no ad group
    level, the ad group (`ad_group_id`, `ad_group_name` are the creative's
    too), so it can sit in either finer-grain fact and still sum to the
    campaign. The campaign comes from the creative list (analytics name none);
    a creative missing from the list keeps its rows with a null campaign,
    which the reconcile tests then report.
-#}

with

stg_linkedin__creative_analytics as (

    select * from {{ ref('stg_linkedin__creative_analytics') }}

),

stg_linkedin__creatives as (

    select * from {{ ref('stg_linkedin__creatives') }}

),

int_linkedin_campaigns_grouped as (

    select * from {{ ref('int_linkedin_campaigns_grouped') }}

),

named as (

    select
        analytics.date_day,
        analytics.workspace_id,
        analytics.platform,
        analytics.account_id,
        creatives.campaign_id,
        campaigns.campaign_name,
        analytics.creative_id as ad_group_id,
        creatives.creative_name as ad_group_name,
        analytics.creative_id as ad_id,
        creatives.creative_name as ad_name,
        analytics.currency,
        analytics.impressions,
        analytics.clicks,
        analytics.spend,
        analytics.conversions,
        analytics.conversion_value,
        analytics.sync_run_id,
        analytics.extracted_at

    from stg_linkedin__creative_analytics as analytics
    left join stg_linkedin__creatives as creatives
        on
            analytics.workspace_id = creatives.workspace_id
            and analytics.account_id = creatives.account_id
            and analytics.creative_id = creatives.creative_id
    left join int_linkedin_campaigns_grouped as campaigns
        on
            creatives.workspace_id = campaigns.workspace_id
            and creatives.account_id = campaigns.account_id
            and creatives.campaign_id = campaigns.campaign_id

),

final as (

    select * from named

)

select * from final
