{#-
    Amazon Marketing Stream `sp-traffic` records of the registry's profiles, one row per distinct
    record. Not combined here: records for the same hour and key are deltas that the hourly fact
    adds up (a click invalidation arrives as a record with negative values).
-#}

with

source as (

    select * from {{ source('amazon_stream', 'sp_traffic') }}

),

final as (

    select
        idempotency_id,
        time_window_start as hour_start_utc,
        workspace_id,
        'amazon_ads' as platform,
        account_id,
        campaign_id,
        ad_group_id,
        ad_id,
        coalesce(keyword_id, '') as keyword_id,
        keyword_text,
        match_type,
        placement,
        upper(currency) as currency,
        coalesce(impressions, 0) as impressions,
        coalesce(clicks, 0) as clicks,
        coalesce(cost, 0) as spend,
        received_at

    from source
    where workspace_id is not null

)

select * from final
