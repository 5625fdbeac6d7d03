{#-
    Snapchat campaigns from the ad account's campaign list (an entity list:
    raw rows have no report_date). The stats carry no campaign name, so this
    is where Snapchat campaign names come from. One row per campaign: the
    latest extraction.
-#}

with

source as (

    select * from {{ source('snapchat', 'campaigns') }}

),

parsed as (

    select
        workspace_id,
        'snapchat' as platform,
        account_id,
        {{ json_text('payload', 'id') }} as campaign_id,
        {{ json_text('payload', 'name') }} as campaign_name,
        {{ json_text('payload', 'status') }} as campaign_status,
        sync_run_id,
        extracted_at

    from source

),

deduplicated as (

    {{ latest_extraction('parsed', ['workspace_id', 'account_id', 'campaign_id']) }}

),

final as (

    select
        workspace_id,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        campaign_status,
        sync_run_id,
        extracted_at

    from deduplicated

)

select * from final
