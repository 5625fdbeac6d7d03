{#-
    Google Ads ad group-day performance (`FROM ad_group`). As in
    `stg_google_ads__campaign_performance`: absent metrics are zero, cost
    arrives in micros, the currency comes from the account registry.
-#}

{{ stage_performance(
    source('google_ads', 'ad_group_performance'),
    platform='google_ads',
    entity_id='ad_group_id',
    fields={
        'date_day': json_text('payload', 'segments', 'date'),
        'campaign_id': json_text('payload', 'campaign', 'id'),
        'campaign_name': json_text('payload', 'campaign', 'name'),
        'ad_group_id': json_text('payload', 'adGroup', 'id'),
        'ad_group_name': json_text('payload', 'adGroup', 'name'),
        'currency': none,
    },
    metrics=payload_metrics(
        ['impressions', 'clicks', 'costMicros', 'conversions', 'conversionsValue'],
        path=['metrics'], micros=['spend']
    ),
) }}
