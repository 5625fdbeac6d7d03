{#-
    LinkedIn creatives from the `creatives?q=criteria` finder (an entity list:
    raw rows have no report_date): each creative's id (from its
    `urn:li:sponsoredCreative:` URN), name and campaign (from its
    `urn:li:sponsoredCampaign:` URN). One row per creative: the latest
    extraction.
-#}

with

source as (

    select * from {{ source('linkedin', 'creatives') }}

),

parsed as (

    select
        workspace_id,
        'linkedin' as platform,
        account_id,
        replace({{ json_text('payload', 'id') }}, 'urn:li:sponsoredCreative:', '') as creative_id,
        {{ json_text('payload', 'name') }} as creative_name,
        replace({{ json_text('payload', 'campaign') }}, 'urn:li:sponsoredCampaign:', '') as campaign_id,
        {{ json_text('payload', 'intendedStatus') }} as creative_status,
        sync_run_id,
        extracted_at

    from source

),

deduplicated as (

    {{ latest_extraction('parsed', ['workspace_id', 'account_id', 'creative_id']) }}

),

final as (

    select
        workspace_id,
        platform,
        account_id,
        creative_id,
        creative_name,
        campaign_id,
        creative_status,
        sync_run_id,
        extracted_at

    from deduplicated

)

select * from final
