{#-
    Amazon Marketing Stream `sp-conversion` records of the registry's profiles, one row per
    distinct record. Conversions and sales are the attribution window of var
    `amazon_ads_stream_window` (7d by default, as the daily report's purchases7d and sales7d).
    Later records for a past hour are deltas (late-attributed conversions) that the hourly fact adds.
-#}

{%- set window = var('amazon_ads_stream_window') %}

with

source as (

    select * from {{ source('amazon_stream', 'sp_conversion') }}

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
        coalesce(attributed_conversions_{{ window }}, 0) as conversions,
        coalesce(attributed_sales_{{ window }}, 0) as conversion_value,
        coalesce(attributed_units_ordered_{{ window }}, 0) as units_ordered,
        received_at

    from source
    where workspace_id is not null

)

select * from final
