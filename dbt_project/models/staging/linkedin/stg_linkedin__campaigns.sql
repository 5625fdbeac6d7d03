{#-
    LinkedIn campaigns from the `adCampaigns` finder (an entity list: raw rows
    have no report_date). adAnalytics carries no names, so this is where
    LinkedIn campaign names come from, and the campaign's group: the number in
    its `urn:li:sponsoredCampaignGroup:` URN. `id` is a JSON number, kept as
    text like every campaign id. One row per campaign: the latest extraction.
-#}

with

source as (

    select * from {{ source('linkedin', 'campaigns') }}

),

parsed as (

    select
        workspace_id,
        'linkedin' as platform,
        account_id,
        {{ json_text('payload', 'id') }} as campaign_id,
        {{ json_text('payload', 'name') }} as campaign_name,
        {{ json_text('payload', 'status') }} as campaign_status,
        replace({{ json_text('payload', 'campaignGroup') }}, 'urn:li:sponsoredCampaignGroup:', '') as campaign_group_id,
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
        campaign_group_id,
        sync_run_id,
        extracted_at

    from deduplicated

)

select * from final
