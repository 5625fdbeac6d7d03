{#-
    One row per campaign and day from Snapchat's DAY timeseries. `spend` and
    the purchase value are micro-currency (divided by 1e6); stats are numbers
    and a stat not sent is 0. The day is the local date written in
    `start_time` (the ad account's midnight with its UTC offset), never the
    UTC date. Snapchat's clicks are swipes. Conversions and their value are
    the fields named by vars `snapchat_conversions_field` and
    `snapchat_conversion_value_field`. No campaign name or currency in the
    stats: the currency comes from the registry.
-#}
{%- set conversions_field = var('snapchat_conversions_field') -%}
{%- set value_field = var('snapchat_conversion_value_field') -%}

with

source as (

    select * from {{ source('snapchat', 'campaign_stats') }}

),

parsed as (

    select
        cast(left({{ json_text('payload', 'start_time') }}, 10) as date) as date_day,
        workspace_id,
        'snapchat' as platform,
        account_id,
        {{ json_text('payload', 'id') }} as campaign_id,
        cast(null as {{ dbt.type_string() }}) as campaign_name,
        cast(null as {{ dbt.type_string() }}) as currency,
        coalesce(cast({{ json_text('payload', 'stats', 'impressions') }} as bigint), 0) as impressions,
        coalesce(cast({{ json_text('payload', 'stats', 'swipes') }} as bigint), 0) as clicks,
        coalesce({{ micros_to_units(json_text('payload', 'stats', 'spend')) }}, 0) as spend,
        coalesce(cast({{ json_text('payload', 'stats', conversions_field) }} as numeric), 0) as conversions,
        coalesce({{ micros_to_units(json_text('payload', 'stats', value_field)) }}, 0) as conversion_value,
        cast({{ json_text('payload', 'stats', 'swipes') }} as bigint) as swipes,
        cast({{ json_text('payload', 'stats', 'video_views') }} as bigint) as video_views,
        cast({{ json_text('payload', 'stats', 'quartile_1') }} as bigint) as video_views_p25,
        cast({{ json_text('payload', 'stats', 'quartile_2') }} as bigint) as video_views_p50,
        cast({{ json_text('payload', 'stats', 'quartile_3') }} as bigint) as video_views_p75,
        cast({{ json_text('payload', 'stats', 'view_completion') }} as bigint) as video_views_p100,
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
        swipes,
        video_views,
        video_views_p25,
        video_views_p50,
        video_views_p75,
        video_views_p100,
        sync_run_id,
        extracted_at

    from deduplicated
    where extraction_rank = 1

)

select * from final
