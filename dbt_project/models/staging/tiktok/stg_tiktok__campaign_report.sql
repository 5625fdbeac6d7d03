{#-
    TikTok metrics arrive as strings, "-" when missing (video metrics of a
    non-video campaign, payment value on a day without payments): "-" is null
    for the platform extras and 0 for the canonical metrics. The day is
    `stat_time_day` ("YYYY-MM-DD 00:00:00", the advertiser's time zone). The
    report has no currency: `int_ad_performance_unioned` takes the account's
    from the registry. Conversions and their value are the metrics named by
    vars `tiktok_conversions_metric` and `tiktok_conversion_value_metric`.
-#}

with

source as (

    select * from {{ source('tiktok', 'campaign_report') }}

),

parsed as (

    select
        cast(left({{ json_text('payload', 'dimensions', 'stat_time_day') }}, 10) as date) as date_day,
        workspace_id,
        'tiktok' as platform,
        account_id,
        {{ json_text('payload', 'dimensions', 'campaign_id') }} as campaign_id,
        nullif({{ json_text('payload', 'metrics', 'campaign_name') }}, '-') as campaign_name,
        cast(null as {{ dbt.type_string() }}) as currency,
{{ tiktok_canonical_metrics() }},
        cast({{ numeric_or_null(json_text('payload', 'metrics', 'video_play_actions')) }} as bigint) as video_views,
        cast({{ numeric_or_null(json_text('payload', 'metrics', 'video_views_p25')) }} as bigint) as video_views_p25,
        cast({{ numeric_or_null(json_text('payload', 'metrics', 'video_views_p50')) }} as bigint) as video_views_p50,
        cast({{ numeric_or_null(json_text('payload', 'metrics', 'video_views_p75')) }} as bigint) as video_views_p75,
        cast({{ numeric_or_null(json_text('payload', 'metrics', 'video_views_p100')) }} as bigint) as video_views_p100,
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
