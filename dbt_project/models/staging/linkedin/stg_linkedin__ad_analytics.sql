{#-
    LinkedIn adAnalytics elements (pivot CAMPAIGN, DAILY). The campaign id is
    the number in the `urn:li:sponsoredCampaign:` pivot URN; the day is
    `dateRange.start`. Cost and conversion value are long-precision strings,
    cast to exact numerics (never floats). Conversions and value are the
    fields named by vars `linkedin_conversions_field` and
    `linkedin_conversion_value_field`. No currency or campaign name in the
    element: the currency comes from the registry.
-#}

with

source as (

    select * from {{ source('linkedin', 'ad_analytics') }}

),

parsed as (

    select
        {{ linkedin_date_day() }} as date_day,
        workspace_id,
        'linkedin' as platform,
        account_id,
        replace({{ json_text('payload', 'pivotValues', '0') }}, 'urn:li:sponsoredCampaign:', '') as campaign_id,
        cast(null as {{ dbt.type_string() }}) as campaign_name,
        cast(null as {{ dbt.type_string() }}) as currency,
{{ linkedin_canonical_metrics() }},
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
