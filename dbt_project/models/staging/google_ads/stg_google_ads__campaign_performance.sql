{#-
    Google Ads omits fields at their default value: an absent metric is zero.
    Cost arrives in micros of the account currency. The payload carries no
    currency; `int_ad_performance_unioned` takes it from the account registry.
-#}

{{ stage_performance(
    source('google_ads', 'campaign_performance'),
    platform='google_ads',
    entity_id='campaign_id',
    fields={
        'date_day': json_text('payload', 'segments', 'date'),
        'campaign_id': json_text('payload', 'campaign', 'id'),
        'campaign_name': json_text('payload', 'campaign', 'name'),
        'currency': none,
    },
    metrics=payload_metrics(
        ['impressions', 'clicks', 'costMicros', 'conversions', 'conversionsValue'],
        path=['metrics'], micros=['spend']
    ),
) }}
