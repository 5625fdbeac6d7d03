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
{{ snapchat_canonical_metrics() }},
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
