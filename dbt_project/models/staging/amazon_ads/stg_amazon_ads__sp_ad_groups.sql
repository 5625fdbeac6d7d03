{#-
    Amazon Ads Sponsored Products rows grouped by ad group (`spCampaigns`
    with `groupBy: ["adGroup"]`): each row names its ad group and campaign.
    Metrics parse exactly like the campaign report's
    (the same `payload_metrics` mapping), so the ad groups of a campaign-day sum
    to it.
-#}

{{ stage_performance(
    source('amazon_ads', 'sp_ad_groups'),
    platform='amazon_ads',
    entity_id='ad_group_id',
    fields={
        'date_day': json_text('payload', 'date'),
        'campaign_id': json_text('payload', 'campaignId'),
        'campaign_name': json_text('payload', 'campaignName'),
        'ad_group_id': json_text('payload', 'adGroupId'),
        'ad_group_name': json_text('payload', 'adGroupName'),
        'currency': 'upper(' ~ json_text('payload', 'campaignBudgetCurrencyCode') ~ ')',
    },
    metrics=payload_metrics(
        ['impressions', 'clicks', 'cost', var('amazon_ads_conversions_column'), var('amazon_ads_conversion_value_column')]
    ),
) }}
