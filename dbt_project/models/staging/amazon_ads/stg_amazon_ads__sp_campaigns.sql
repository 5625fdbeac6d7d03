{#-
    Amazon Ads Sponsored Products campaign report rows (numbers as JSON
    numbers; the day in the profile's time zone). Conversions and their value
    are the columns named by vars `amazon_ads_conversions_column` and
    `amazon_ads_conversion_value_column` (7-day attribution by default). The
    currency is the row's `campaignBudgetCurrencyCode` when present.
-#}

with

source as (

    select * from {{ source('amazon_ads', 'sp_campaigns') }}

),

parsed as (

    select
        cast({{ json_text('payload', 'date') }} as date) as date_day,
        workspace_id,
        'amazon_ads' as platform,
        account_id,
        {{ json_text('payload', 'campaignId') }} as campaign_id,
        {{ json_text('payload', 'campaignName') }} as campaign_name,
        upper({{ json_text('payload', 'campaignBudgetCurrencyCode') }}) as currency,
{{ amazon_ads_canonical_metrics() }},
        sync_run_id,
        extracted_at

    from source

),

deduplicated as (

    -- Overlapping extraction windows can load a campaign-day more than once:
    -- the latest extraction is the platform's current (restated) answer.
    select
        *,
        row_number() over (
            partition by workspace_id, account_id, campaign_id, date_day
            order by extracted_at desc, sync_run_id desc
        ) as extraction_rank

    from parsed

),

final as (

    select
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        currency,
        impressions,
        clicks,
        spend,
        conversions,
        conversion_value,

        sync_run_id,
        extracted_at

    from deduplicated
    where extraction_rank = 1

)

select * from final
