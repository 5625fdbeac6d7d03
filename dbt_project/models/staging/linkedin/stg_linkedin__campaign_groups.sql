{#-
    LinkedIn campaign groups from the `adCampaignGroups` finder (an entity
    list: raw rows have no report_date). One row per group: the latest
    extraction.
-#}

with

source as (

    select * from {{ source('linkedin', 'campaign_groups') }}

),

parsed as (

    select
        workspace_id,
        'linkedin' as platform,
        account_id,
        {{ json_text('payload', 'id') }} as campaign_group_id,
        {{ json_text('payload', 'name') }} as campaign_group_name,
        {{ json_text('payload', 'status') }} as campaign_group_status,
        sync_run_id,
        extracted_at

    from source

),

deduplicated as (

    {{ latest_extraction('parsed', ['workspace_id', 'account_id', 'campaign_group_id']) }}

),

final as (

    select
        workspace_id,
        platform,
        account_id,
        campaign_group_id,
        campaign_group_name,
        campaign_group_status,
        sync_run_id,
        extracted_at

    from deduplicated

)

select * from final
