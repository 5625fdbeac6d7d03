{#-
    Snapchat ad squads from the ad account's ad squad list (an entity list:
    raw rows have no report_date): each squad's name and campaign. One row
    per ad squad: the latest extraction.
-#}

with

source as (

    select * from {{ source('snapchat', 'ad_squads') }}

),

parsed as (

    select
        workspace_id,
        'snapchat' as platform,
        account_id,
        {{ json_text('payload', 'campaign_id') }} as campaign_id,
        {{ json_text('payload', 'id') }} as ad_group_id,
        {{ json_text('payload', 'name') }} as ad_group_name,
        {{ json_text('payload', 'status') }} as ad_group_status,
        sync_run_id,
        extracted_at

    from source

),

deduplicated as (

    {{ latest_extraction('parsed', ['workspace_id', 'account_id', 'ad_group_id']) }}

),

final as (

    select
        workspace_id,
        platform,
        account_id,
        campaign_id,
        ad_group_id,
        ad_group_name,
        ad_group_status,
        sync_run_id,
        extracted_at

    from deduplicated

)

select * from final
