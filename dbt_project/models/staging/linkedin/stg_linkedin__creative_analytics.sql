{#-
    LinkedIn adAnalytics per creative and day (`pivot=CREATIVE`): the creative
    id is the number in the `urn:li:sponsoredCreative:` pivot URN. Metrics
    parse exactly like the campaign analytics (the same `payload_metrics` mapping),
    so the creatives of a campaign-day sum to it. The element names no
    campaign: `int_linkedin_creative_performance_named` adds it from the
    creative list.
-#}

{{ stage_performance(
    source('linkedin', 'creative_analytics'),
    platform='linkedin',
    entity_id='creative_id',
    fields={
        'date_day': json_date_from_parts('payload', 'dateRange', 'start'),
        'creative_id': 'replace(' ~ json_text('payload', 'pivotValues', '0') ~ ", 'urn:li:sponsoredCreative:', '')",
        'currency': none,
    },
    metrics=payload_metrics(
        ['impressions', 'clicks', 'costInLocalCurrency', var('linkedin_conversions_field'), var('linkedin_conversion_value_field')]
    ),
) }}
