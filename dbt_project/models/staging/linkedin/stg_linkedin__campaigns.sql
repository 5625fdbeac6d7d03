{#-
    LinkedIn campaigns from the `adCampaigns` finder (an entity list: raw rows
    have no report_date). adAnalytics carries no names, so this is where
    LinkedIn campaign names come from, and the campaign's group: the number in
    its `urn:li:sponsoredCampaignGroup:` URN. `id` is a JSON number, kept as
    text like every campaign id. One row per campaign: the latest extraction.
-#}

{{ stage_entity_list(
    source('linkedin', 'campaigns'),
    platform='linkedin',
    entity_id='campaign_id',
    fields={
        'campaign_id': json_text('payload', 'id'),
        'campaign_name': json_text('payload', 'name'),
        'campaign_status': json_text('payload', 'status'),
        'campaign_group_id': 'replace(' ~ json_text('payload', 'campaignGroup') ~ ", 'urn:li:sponsoredCampaignGroup:', '')",
    },
) }}
