{#-
    LinkedIn campaigns with their campaign group's name. LinkedIn's hierarchy
    is campaign group > campaign > creative: the group is an attribute of the
    campaign here (the campaign stays the campaign grain, like every other
    platform's). A group missing from the group list keeps its id with a null
    name.
-#}

with

stg_linkedin__campaigns as (

    select * from {{ ref('stg_linkedin__campaigns') }}

),

stg_linkedin__campaign_groups as (

    select * from {{ ref('stg_linkedin__campaign_groups') }}

),

grouped as (

    select
        campaigns.workspace_id,
        campaigns.platform,
        campaigns.account_id,
        campaigns.campaign_id,
        campaigns.campaign_name,
        campaigns.campaign_group_id,
        campaign_groups.campaign_group_name

    from stg_linkedin__campaigns as campaigns
    left join stg_linkedin__campaign_groups as campaign_groups
        on
            campaigns.workspace_id = campaign_groups.workspace_id
            and campaigns.account_id = campaign_groups.account_id
            and campaigns.campaign_group_id = campaign_groups.campaign_group_id

),

final as (

    select * from grouped

)

select * from final
