{#-
    Conversions are the configured purchase action type only
    (var `meta_purchase_action_type`). Meta repeats one purchase under several
    types (`purchase`, `omni_purchase`, `offsite_conversion.fb_pixel_purchase`,
    ...); adding them up would count it several times.
-#}

{{ stage_performance(
    source('meta', 'insights'),
    platform='meta',
    entity_id='campaign_id',
    fields={
        'date_day': json_text('payload', 'date_start'),
        'campaign_id': json_text('payload', 'campaign_id'),
        'campaign_name': json_text('payload', 'campaign_name'),
        'currency': 'upper(' ~ json_text('payload', 'account_currency') ~ ')',
    },
    metrics=payload_metrics(
        ['impressions', 'clicks', 'spend', 'actions', 'action_values'],
        action_type=var('meta_purchase_action_type')
    ),
    extras={'reach': 'cast(' ~ json_text('payload', 'reach') ~ ' as bigint)'},
) }}
