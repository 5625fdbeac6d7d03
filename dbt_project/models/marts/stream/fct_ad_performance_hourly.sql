{#-
    Amazon Marketing Stream per hour: one row per UTC hour, profile, campaign, ad group and
    keyword or target, with the hour and day in the profile's time zone.

    Combination rule (Amazon's Marketing Stream data guide; adapters/amazon_ads/stream.py): a
    redelivered record (same idempotency_id) was never loaded twice, and every distinct record
    for the same hour and key is a delta, so the hour's numbers are the SUM of its records,
    whatever order they arrived in (late conversions add, invalidated clicks subtract). Ads and
    placements are summed into their keyword or target.

    Incremental: an hourly run rebuilds only the hours that received a record since the last
    build (the target's latest `last_received_at`, less `incremental_watermark_margin_hours` for a
    load still open while it ran), each whole from all its records, and swaps their rows in
    (delete+insert on the key). Records are never replaced or removed, so an hour nobody wrote
    to keeps its rows, and every build equals a full refresh (tests/test_marketing_stream.py).
    A profile's changed time zone or currency in the registry reaches older hours with
    `dbt build --full-refresh`.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='delete+insert',
        unique_key='hourly_performance_id',
        on_schema_change='fail',
        indexes=[{'columns': ['hour_start_utc']}, {'columns': ['last_received_at']}],
    )
}}

with

{% if is_incremental() -%}
watermark as (

    select coalesce(max(last_received_at), '-infinity') - interval '{{ var('incremental_watermark_margin_hours', 1) | int }} hours' as received_since
    from {{ this }}

),

changed_hours as (

    select traffic.hour_start_utc
    from {{ ref('stg_amazon_ads__stream_sp_traffic') }} as traffic
    cross join watermark
    where traffic.received_at > watermark.received_since
    union
    select conversions.hour_start_utc
    from {{ ref('stg_amazon_ads__stream_sp_conversion') }} as conversions
    cross join watermark
    where conversions.received_at > watermark.received_since

),

{% endif -%}
traffic as (

    select * from {{ ref('stg_amazon_ads__stream_sp_traffic') }}
    {%- if is_incremental() %}
    where hour_start_utc in (select hour_start_utc from changed_hours)
    {%- endif %}

),

conversions as (

    select * from {{ ref('stg_amazon_ads__stream_sp_conversion') }}
    {%- if is_incremental() %}
    where hour_start_utc in (select hour_start_utc from changed_hours)
    {%- endif %}

),

accounts as (

    select * from {{ ref('stg_ops__workspace_accounts') }}
    where platform = 'amazon_ads'

),

traffic_summed as (

    select
        hour_start_utc, workspace_id, account_id, campaign_id, ad_group_id, keyword_id,
        max(keyword_text) as keyword_text,
        max(match_type) as match_type,
        max(currency) as currency,
        sum(spend) as spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        count(*) as records,
        max(received_at) as last_received_at

    from traffic
    group by hour_start_utc, workspace_id, account_id, campaign_id, ad_group_id, keyword_id

),

conversions_summed as (

    select
        hour_start_utc, workspace_id, account_id, campaign_id, ad_group_id, keyword_id,
        max(keyword_text) as keyword_text,
        max(match_type) as match_type,
        max(currency) as currency,
        sum(conversions) as conversions,
        sum(conversion_value) as conversion_value,
        sum(units_ordered) as units_ordered,
        count(*) as records,
        max(received_at) as last_received_at

    from conversions
    group by hour_start_utc, workspace_id, account_id, campaign_id, ad_group_id, keyword_id

),

combined as (

    select
        coalesce(t.hour_start_utc, c.hour_start_utc) as hour_start_utc,
        coalesce(t.workspace_id, c.workspace_id) as workspace_id,
        coalesce(t.account_id, c.account_id) as account_id,
        coalesce(t.campaign_id, c.campaign_id) as campaign_id,
        coalesce(t.ad_group_id, c.ad_group_id) as ad_group_id,
        coalesce(t.keyword_id, c.keyword_id) as keyword_id,
        coalesce(t.keyword_text, c.keyword_text) as keyword_text,
        coalesce(t.match_type, c.match_type) as match_type,
        coalesce(t.currency, c.currency) as currency,
        coalesce(t.spend, 0) as spend,
        coalesce(t.impressions, 0) as impressions,
        coalesce(t.clicks, 0) as clicks,
        coalesce(c.conversions, 0) as conversions,
        coalesce(c.conversion_value, 0) as conversion_value,
        coalesce(c.units_ordered, 0) as units_ordered,
        coalesce(t.records, 0) + coalesce(c.records, 0) as records,
        greatest(t.last_received_at, c.last_received_at) as last_received_at

    from traffic_summed as t
    full outer join conversions_summed as c
        on
            t.hour_start_utc = c.hour_start_utc
            and t.workspace_id = c.workspace_id
            and t.account_id = c.account_id
            and t.campaign_id = c.campaign_id
            and t.ad_group_id is not distinct from c.ad_group_id
            and t.keyword_id = c.keyword_id

),

final as (

    select
        {{ surrogate_key(['combined.hour_start_utc', 'combined.workspace_id', 'combined.account_id', 'combined.campaign_id', 'combined.ad_group_id', 'combined.keyword_id']) }}
        as hourly_performance_id,
        combined.hour_start_utc,
        cast(timezone(accounts.timezone, combined.hour_start_utc) as date) as date_day,
        cast(extract(hour from timezone(accounts.timezone, combined.hour_start_utc)) as integer) as hour_of_day,
        combined.workspace_id,
        'amazon_ads' as platform,
        combined.account_id,
        combined.campaign_id,
        combined.ad_group_id,
        combined.keyword_id,
        combined.keyword_text,
        combined.match_type,
        coalesce(combined.currency, accounts.currency) as currency,
        cast(combined.spend as numeric) as spend,
        cast(combined.impressions as bigint) as impressions,
        cast(combined.clicks as bigint) as clicks,
        cast(combined.conversions as bigint) as conversions,
        cast(combined.conversion_value as numeric) as conversion_value,
        cast(combined.units_ordered as bigint) as units_ordered,
        cast(combined.records as integer) as records,
        combined.last_received_at

    from combined
    inner join accounts
        on combined.workspace_id = accounts.workspace_id and combined.account_id = accounts.account_id

)

select * from final
