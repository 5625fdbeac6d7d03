{#-
    TikTok ad group x day rows (`data_level=AUCTION_ADGROUP`, dimensions
    `adgroup_id` and `stat_time_day`). The ad group's name and its campaign
    (id and name) come as attribute metrics. Metrics parse exactly like the
    campaign report's (`tiktok_canonical_metrics`), so the ad groups of a
    campaign-day sum to it.
-#}

with

source as (

    select * from {{ source('tiktok', 'ad_group_report') }}

),

parsed as (

    select
        cast(left({{ json_text('payload', 'dimensions', 'stat_time_day') }}, 10) as date) as date_day,
        workspace_id,
        'tiktok' as platform,
        account_id,
        {{ json_text('payload', 'metrics', 'campaign_id') }} as campaign_id,
        nullif({{ json_text('payload', 'metrics', 'campaign_name') }}, '-') as campaign_name,
        {{ json_text('payload', 'dimensions', 'adgroup_id') }} as ad_group_id,
        nullif({{ json_text('payload', 'metrics', 'adgroup_name') }}, '-') as ad_group_name,
        cast(null as {{ dbt.type_string() }}) as currency,
{{ tiktok_canonical_metrics() }},
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
