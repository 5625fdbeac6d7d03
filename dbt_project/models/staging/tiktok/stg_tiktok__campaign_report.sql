{#-
    TikTok metrics arrive as strings, "-" when missing (video metrics of a
    non-video campaign, payment value on a day without payments): "-" is null
    for the platform extras and 0 for the canonical metrics. The day is
    `stat_time_day` ("YYYY-MM-DD 00:00:00", the advertiser's time zone). The
    report has no currency: `int_ad_performance_unioned` takes the account's
    from the registry. Conversions and their value are the metrics named by
    vars `tiktok_conversions_metric` and `tiktok_conversion_value_metric`.
-#}

{%- set video_metrics = {
    'video_views': 'video_play_actions',
    'video_views_p25': 'video_views_p25',
    'video_views_p50': 'video_views_p50',
    'video_views_p75': 'video_views_p75',
    'video_views_p100': 'video_views_p100',
} -%}
{%- set extras = {} -%}
{%- for name, key in video_metrics.items() -%}
    {%- do extras.update({name: 'cast(' ~ numeric_or_null(json_text('payload', 'metrics', key)) ~ ' as bigint)'}) -%}
{%- endfor -%}

{{ stage_performance(
    source('tiktok', 'campaign_report'),
    platform='tiktok',
    entity_id='campaign_id',
    fields={
        'date_day': 'left(' ~ json_text('payload', 'dimensions', 'stat_time_day') ~ ', 10)',
        'campaign_id': json_text('payload', 'dimensions', 'campaign_id'),
        'campaign_name': 'nullif(' ~ json_text('payload', 'metrics', 'campaign_name') ~ ", '-')",
        'currency': none,
    },
    metrics=payload_metrics(
        ['impressions', 'clicks', 'spend', var('tiktok_conversions_metric'), var('tiktok_conversion_value_metric')],
        path=['metrics'], placeholders=true
    ),
    extras=extras,
) }}
