{#-
    Amazon Ads Sponsored Products rows grouped by ad group (`spCampaigns`
    with `groupBy: ["adGroup"]`): each row names its ad group and campaign.
    Metrics parse exactly like the campaign report's
    (`amazon_ads_canonical_metrics`), so the ad groups of a campaign-day sum
    to it.
-#}

with

source as (

    select * from {{ source('amazon_ads', 'sp_ad_groups') }}

),

parsed as (

    select
        cast({{ json_text('payload', 'date') }} as date) as date_day,
        workspace_id,
        'amazon_ads' as platform,
        account_id,
        {{ json_text('payload', 'campaignId') }} as campaign_id,
        {{ json_text('payload', 'campaignName') }} as campaign_name,
        {{ json_text('payload', 'adGroupId') }} as ad_group_id,
        {{ json_text('payload', 'adGroupName') }} as ad_group_name,
        upper({{ json_text('payload', 'campaignBudgetCurrencyCode') }}) as currency,
{{ amazon_ads_canonical_metrics() }},
        sync_run_id,
        extracted_at

    from source

),

deduplicated as (

    {{ latest_extraction('parsed', ['workspace_id', 'account_id', 'ad_group_id', 'date_day']) }}

),

final as (

    select
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        ad_group_id,
        ad_group_name,
        currency,
        impressions,
        clicks,
        spend,
        conversions,
        conversion_value,
        sync_run_id,
        extracted_at

    from deduplicated

)

select * from final
