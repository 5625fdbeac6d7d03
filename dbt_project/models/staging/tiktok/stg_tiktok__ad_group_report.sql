{#-
    TikTok ad group x day rows (`data_level=AUCTION_ADGROUP`, dimensions
    `adgroup_id` and `stat_time_day`). The ad group's name and its campaign
    (id and name) come as attribute metrics. Metrics parse exactly like the
    campaign report's (the same `payload_metrics` mapping), so the ad groups of a
    campaign-day sum to it.
-#}

{{ stage_performance(
    source('tiktok', 'ad_group_report'),
    platform='tiktok',
    entity_id='ad_group_id',
    fields={
        'date_day': 'left(' ~ json_text('payload', 'dimensions', 'stat_time_day') ~ ', 10)',
        'campaign_id': json_text('payload', 'metrics', 'campaign_id'),
        'campaign_name': 'nullif(' ~ json_text('payload', 'metrics', 'campaign_name') ~ ", '-')",
        'ad_group_id': json_text('payload', 'dimensions', 'adgroup_id'),
        'ad_group_name': 'nullif(' ~ json_text('payload', 'metrics', 'adgroup_name') ~ ", '-')",
        'currency': none,
    },
    metrics=payload_metrics(
        ['impressions', 'clicks', 'spend', var('tiktok_conversions_metric'), var('tiktok_conversion_value_metric')],
        path=['metrics'], placeholders=true
    ),
) }}
