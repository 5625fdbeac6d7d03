{#-
    Snapchat ad squad x day rows: the `breakdown_stats.adsquad` timeseries of
    each campaign's stats (`breakdown=adsquad`), with the parent campaign's id
    copied in by the adapter. Stats parse exactly like the campaign stats
    (`snapchat_canonical_metrics`); the day is the local date in
    `start_time`. No names here: `int_snapchat_ad_squad_performance_named`
    adds them from the ad squad and campaign lists.
-#}

with

source as (

    select * from {{ source('snapchat', 'ad_squad_stats') }}

),

parsed as (

    select
        cast(left({{ json_text('payload', 'start_time') }}, 10) as date) as date_day,
        workspace_id,
        'snapchat' as platform,
        account_id,
        {{ json_text('payload', 'campaign_id') }} as campaign_id,
        {{ json_text('payload', 'id') }} as ad_group_id,
        cast(null as {{ dbt.type_string() }}) as currency,
{{ snapchat_canonical_metrics() }},
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
        ad_group_id,
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
