{#-
    Snapchat ad squad x day performance with the names the stats lack: the ad
    squad's from the ad squad list, the campaign's from the campaign list. A
    squad or campaign missing from its list keeps its rows with a null name.
    In the ad group union's list of models, like a staging model.
-#}

with

stg_snapchat__ad_squad_stats as (

    select * from {{ ref('stg_snapchat__ad_squad_stats') }}

),

stg_snapchat__ad_squads as (

    select * from {{ ref('stg_snapchat__ad_squads') }}

),

stg_snapchat__campaigns as (

    select * from {{ ref('stg_snapchat__campaigns') }}

),

named as (

    select
        stats.date_day,
        stats.workspace_id,
        stats.platform,
        stats.account_id,
        stats.campaign_id,
        campaigns.campaign_name,
        stats.ad_group_id,
        squads.ad_group_name,
        stats.currency,
        stats.impressions,
        stats.clicks,
        stats.spend,
        stats.conversions,
        stats.conversion_value,
        stats.sync_run_id,
        stats.extracted_at

    from stg_snapchat__ad_squad_stats as stats
    left join stg_snapchat__ad_squads as squads
        on
            stats.workspace_id = squads.workspace_id
            and stats.account_id = squads.account_id
            and stats.ad_group_id = squads.ad_group_id
    left join stg_snapchat__campaigns as campaigns
        on
            stats.workspace_id = campaigns.workspace_id
            and stats.account_id = campaigns.account_id
            and stats.campaign_id = campaigns.campaign_id

),

final as (

    select * from named

)

select * from final
