{#-
    One row per campaign and day from Snapchat's DAY timeseries. `spend` and
    the purchase value are micro-currency (divided by 1e6); stats are numbers
    and a stat not sent is 0. The day is the local date written in
    `start_time` (the ad account's midnight with its UTC offset), never the
    UTC date. Snapchat's clicks are swipes. Conversions and their value are
    the fields named by vars `snapchat_conversions_field` and
    `snapchat_conversion_value_field`. No campaign name or currency in the
    stats: the currency comes from the registry.
-#}

{%- set extras = {} -%}
{%- for name, key in {
    'swipes': 'swipes',
    'video_views': 'video_views',
    'video_views_p25': 'quartile_1',
    'video_views_p50': 'quartile_2',
    'video_views_p75': 'quartile_3',
    'video_views_p100': 'view_completion',
}.items() -%}
    {%- do extras.update({name: 'cast(' ~ json_text('payload', 'stats', key) ~ ' as bigint)'}) -%}
{%- endfor -%}

{{ stage_performance(
    source('snapchat', 'campaign_stats'),
    platform='snapchat',
    entity_id='campaign_id',
    fields={
        'date_day': 'left(' ~ json_text('payload', 'start_time') ~ ', 10)',
        'campaign_id': json_text('payload', 'id'),
        'campaign_name': none,
        'currency': none,
    },
    metrics=payload_metrics(
        ['impressions', 'swipes', 'spend', var('snapchat_conversions_field'), var('snapchat_conversion_value_field')],
        path=['stats'], micros=['spend', 'conversion_value']
    ),
    extras=extras,
) }}
