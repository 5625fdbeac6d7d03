{#-
    Google Ads ad group-day performance (`FROM ad_group`). As in
    `stg_google_ads__campaign_performance`: absent metrics are zero, cost
    arrives in micros, the currency comes from the account registry.
-#}

with

source as (

    select * from {{ source('google_ads', 'ad_group_performance') }}

),

parsed as (

    select
        cast({{ json_text('payload', 'segments', 'date') }} as date) as date_day,
        workspace_id,
        'google_ads' as platform,
        account_id,
        {{ json_text('payload', 'campaign', 'id') }} as campaign_id,
        {{ json_text('payload', 'campaign', 'name') }} as campaign_name,
        {{ json_text('payload', 'adGroup', 'id') }} as ad_group_id,
        {{ json_text('payload', 'adGroup', 'name') }} as ad_group_name,
        cast(null as {{ dbt.type_string() }}) as currency,
        coalesce(cast({{ json_text('payload', 'metrics', 'impressions') }} as bigint), 0) as impressions,
        coalesce(cast({{ json_text('payload', 'metrics', 'clicks') }} as bigint), 0) as clicks,
        coalesce({{ micros_to_units(json_text('payload', 'metrics', 'costMicros')) }}, 0) as spend,
        coalesce(cast({{ json_text('payload', 'metrics', 'conversions') }} as numeric), 0) as conversions,
        coalesce(cast({{ json_text('payload', 'metrics', 'conversionsValue') }} as numeric), 0) as conversion_value,
        sync_run_id,
        extracted_at

    from source

),

latest_extraction as (

    -- The latest extraction of an ad group-day is the platform's current (restated) answer.
    select
        *,
        row_number() over (
            partition by workspace_id, account_id, ad_group_id, date_day
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

    from latest_extraction
    where extraction_rank = 1

)

select * from final
