{#-
    Snapchat campaigns from the ad account's campaign list (an entity list:
    raw rows have no report_date). The stats carry no campaign name, so this
    is where Snapchat campaign names come from. One row per campaign: the
    latest extraction.
-#}

{{ stage_entity_list(
    source('snapchat', 'campaigns'),
    platform='snapchat',
    entity_id='campaign_id',
    fields={
        'campaign_id': json_text('payload', 'id'),
        'campaign_name': json_text('payload', 'name'),
        'campaign_status': json_text('payload', 'status'),
    },
) }}
