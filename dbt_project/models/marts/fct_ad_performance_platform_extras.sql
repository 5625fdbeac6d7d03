{#-
    Platform-specific metrics kept for fidelity, keyed like
    fct_ad_performance_daily (same ad_performance_id): one row per campaign-day
    of the platforms that report any (Meta reach and frequency, TikTok and
    Snapchat video views and quartiles, Snapchat swipes, Amazon's ACOS inputs).
    A metric a platform does not report is null, never 0.
-#}

with

stg_meta__insights as (

    select * from {{ ref('stg_meta__insights') }}

),

stg_tiktok__campaign_report as (

    select * from {{ ref('stg_tiktok__campaign_report') }}

),

stg_snapchat__campaign_stats as (

    select * from {{ ref('stg_snapchat__campaign_stats') }}

),

stg_amazon_ads__sp_campaigns as (

    select * from {{ ref('stg_amazon_ads__sp_campaigns') }}

),

meta as (

    select
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        reach,
        {{ safe_divide('impressions', 'reach') }} as frequency,
        cast(null as bigint) as video_views,
        cast(null as bigint) as video_views_p25,
        cast(null as bigint) as video_views_p50,
        cast(null as bigint) as video_views_p75,
        cast(null as bigint) as video_views_p100,
        cast(null as bigint) as swipes,
        cast(null as numeric) as acos_spend,
        cast(null as numeric) as acos_sales

    from stg_meta__insights

),

tiktok as (

    select
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        cast(null as bigint) as reach,
        cast(null as {{ dbt.type_float() }}) as frequency,
        video_views,
        video_views_p25,
        video_views_p50,
        video_views_p75,
        video_views_p100,
        cast(null as bigint) as swipes,
        cast(null as numeric) as acos_spend,
        cast(null as numeric) as acos_sales

    from stg_tiktok__campaign_report

),

snapchat as (

    select
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        cast(null as bigint) as reach,
        cast(null as {{ dbt.type_float() }}) as frequency,
        video_views,
        video_views_p25,
        video_views_p50,
        video_views_p75,
        video_views_p100,
        swipes,
        cast(null as numeric) as acos_spend,
        cast(null as numeric) as acos_sales

    from stg_snapchat__campaign_stats

),

amazon_ads as (

    select
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        cast(null as bigint) as reach,
        cast(null as {{ dbt.type_float() }}) as frequency,
        cast(null as bigint) as video_views,
        cast(null as bigint) as video_views_p25,
        cast(null as bigint) as video_views_p50,
        cast(null as bigint) as video_views_p75,
        cast(null as bigint) as video_views_p100,
        cast(null as bigint) as swipes,
        spend as acos_spend,
        conversion_value as acos_sales

    from stg_amazon_ads__sp_campaigns

),

unioned as (

    select * from meta
    union all
    select * from tiktok
    union all
    select * from snapchat
    union all
    select * from amazon_ads

),

final as (

    select
        {{ surrogate_key(['date_day', 'workspace_id', 'platform', 'account_id', 'campaign_id']) }} as ad_performance_id,
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        reach,
        frequency,
        video_views,
        video_views_p25,
        video_views_p50,
        video_views_p75,
        video_views_p100,
        swipes,
        acos_spend,
        acos_sales,
        {{ acos('acos_spend', 'acos_sales') }} as acos

    from unioned

)

select * from final
