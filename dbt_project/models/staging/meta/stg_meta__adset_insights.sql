{#-
    Meta ad set-day Insights (`level=adset`) in the canonical columns plus the
    ad set as `ad_group_id` / `ad_group_name`; conversions are the configured
    purchase action type only, as in `stg_meta__insights`.
-#}

{{ stage_performance(
    source('meta', 'adset_insights'),
    platform='meta',
    entity_id='ad_group_id',
    fields={
        'date_day': json_text('payload', 'date_start'),
        'campaign_id': json_text('payload', 'campaign_id'),
        'campaign_name': json_text('payload', 'campaign_name'),
        'ad_group_id': json_text('payload', 'adset_id'),
        'ad_group_name': json_text('payload', 'adset_name'),
        'currency': 'upper(' ~ json_text('payload', 'account_currency') ~ ')',
    },
    metrics=payload_metrics(
        ['impressions', 'clicks', 'spend', 'actions', 'action_values'],
        action_type=var('meta_purchase_action_type')
    ),
    extras={'reach': 'cast(' ~ json_text('payload', 'reach') ~ ' as bigint)'},
) }}
