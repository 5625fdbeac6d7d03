{#-
    Snapchat ad squad x day rows: the `breakdown_stats.adsquad` timeseries of
    each campaign's stats (`breakdown=adsquad`), with the parent campaign's id
    copied in by the adapter. Stats parse exactly like the campaign stats
    (the same `payload_metrics` mapping); the day is the local date in
    `start_time`. No names here: `int_snapchat_ad_squad_performance_named`
    adds them from the ad squad and campaign lists.
-#}

{{ stage_performance(
    source('snapchat', 'ad_squad_stats'),
    platform='snapchat',
    entity_id='ad_group_id',
    fields={
        'date_day': 'left(' ~ json_text('payload', 'start_time') ~ ', 10)',
        'campaign_id': json_text('payload', 'campaign_id'),
        'ad_group_id': json_text('payload', 'id'),
        'currency': none,
    },
    metrics=payload_metrics(
        ['impressions', 'swipes', 'spend', var('snapchat_conversions_field'), var('snapchat_conversion_value_field')],
        path=['stats'], micros=['spend', 'conversion_value']
    ),
) }}
