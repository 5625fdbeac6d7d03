{#-
    LinkedIn campaign groups from the `adCampaignGroups` finder (an entity
    list: raw rows have no report_date). One row per group: the latest
    extraction.
-#}

{{ stage_entity_list(
    source('linkedin', 'campaign_groups'),
    platform='linkedin',
    entity_id='campaign_group_id',
    fields={
        'campaign_group_id': json_text('payload', 'id'),
        'campaign_group_name': json_text('payload', 'name'),
        'campaign_group_status': json_text('payload', 'status'),
    },
) }}
