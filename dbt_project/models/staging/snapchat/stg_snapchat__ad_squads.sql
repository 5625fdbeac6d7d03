{#-
    Snapchat ad squads from the ad account's ad squad list (an entity list:
    raw rows have no report_date): each squad's name and campaign. One row
    per ad squad: the latest extraction.
-#}

{{ stage_entity_list(
    source('snapchat', 'ad_squads'),
    platform='snapchat',
    entity_id='ad_group_id',
    fields={
        'campaign_id': json_text('payload', 'campaign_id'),
        'ad_group_id': json_text('payload', 'id'),
        'ad_group_name': json_text('payload', 'name'),
        'ad_group_status': json_text('payload', 'status'),
    },
) }}
