{#-
    Amazon Ads Sponsored Products campaign report rows (numbers as JSON
    numbers; the day in the profile's time zone). Conversions and their value
    are the columns named by vars `amazon_ads_conversions_column` and
    `amazon_ads_conversion_value_column` (7-day attribution by default). The
    currency is the row's `campaignBudgetCurrencyCode` when present.
-#}

{{ stage_performance(
    source('amazon_ads', 'sp_campaigns'),
    platform='amazon_ads',
    entity_id='campaign_id',
    fields={
        'date_day': json_text('payload', 'date'),
        'campaign_id': json_text('payload', 'campaignId'),
        'campaign_name': json_text('payload', 'campaignName'),
        'currency': 'upper(' ~ json_text('payload', 'campaignBudgetCurrencyCode') ~ ')',
    },
    metrics=payload_metrics(
        ['impressions', 'clicks', 'cost', var('amazon_ads_conversions_column'), var('amazon_ads_conversion_value_column')]
    ),
) }}
