{#-
    Meta ad-day Insights (`level=ad`) in the canonical columns plus the ad set
    (`ad_group_id` / `ad_group_name`) and the ad (`ad_id` / `ad_name`);
    conversions are the configured purchase action type only, as in
    `stg_meta__insights`.
-#}

{{ stage_performance(
    source('meta', 'ad_insights'),
    platform='meta',
    entity_id='ad_id',
    fields={
        'date_day': json_text('payload', 'date_start'),
        'campaign_id': json_text('payload', 'campaign_id'),
        'campaign_name': json_text('payload', 'campaign_name'),
        'ad_group_id': json_text('payload', 'adset_id'),
        'ad_group_name': json_text('payload', 'adset_name'),
        'ad_id': json_text('payload', 'ad_id'),
        'ad_name': json_text('payload', 'ad_name'),
        'currency': 'upper(' ~ json_text('payload', 'account_currency') ~ ')',
    },
    metrics=payload_metrics(
        ['impressions', 'clicks', 'spend', 'actions', 'action_values'],
        action_type=var('meta_purchase_action_type')
    ),
    extras={'reach': 'cast(' ~ json_text('payload', 'reach') ~ ' as bigint)'},
) }}
