{#-
    LinkedIn adAnalytics elements (pivot CAMPAIGN, DAILY). The campaign id is
    the number in the `urn:li:sponsoredCampaign:` pivot URN; the day is
    `dateRange.start`. Cost and conversion value are long-precision strings,
    cast to exact numerics (never floats). Conversions and value are the
    fields named by vars `linkedin_conversions_field` and
    `linkedin_conversion_value_field`. No currency or campaign name in the
    element: the currency comes from the registry.
-#}

{{ stage_performance(
    source('linkedin', 'ad_analytics'),
    platform='linkedin',
    entity_id='campaign_id',
    fields={
        'date_day': json_date_from_parts('payload', 'dateRange', 'start'),
        'campaign_id': 'replace(' ~ json_text('payload', 'pivotValues', '0') ~ ", 'urn:li:sponsoredCampaign:', '')",
        'campaign_name': none,
        'currency': none,
    },
    metrics=payload_metrics(
        ['impressions', 'clicks', 'costInLocalCurrency', var('linkedin_conversions_field'), var('linkedin_conversion_value_field')]
    ),
) }}
