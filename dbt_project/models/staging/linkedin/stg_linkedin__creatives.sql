{#-
    LinkedIn creatives from the `creatives?q=criteria` finder (an entity list:
    raw rows have no report_date): each creative's id (from its
    `urn:li:sponsoredCreative:` URN), name and campaign (from its
    `urn:li:sponsoredCampaign:` URN). One row per creative: the latest
    extraction.
-#}

{{ stage_entity_list(
    source('linkedin', 'creatives'),
    platform='linkedin',
    entity_id='creative_id',
    fields={
        'creative_id': 'replace(' ~ json_text('payload', 'id') ~ ", 'urn:li:sponsoredCreative:', '')",
        'creative_name': json_text('payload', 'name'),
        'campaign_id': 'replace(' ~ json_text('payload', 'campaign') ~ ", 'urn:li:sponsoredCampaign:', '')",
        'creative_status': json_text('payload', 'intendedStatus'),
    },
) }}
