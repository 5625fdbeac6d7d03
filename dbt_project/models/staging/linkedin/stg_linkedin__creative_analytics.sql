{#-
    LinkedIn adAnalytics per creative and day (`pivot=CREATIVE`): the creative
    id is the number in the `urn:li:sponsoredCreative:` pivot URN. Metrics
    parse exactly like the campaign analytics (`linkedin_canonical_metrics`),
    so the creatives of a campaign-day sum to it. The element names no
    campaign: `int_linkedin_creative_performance_named` adds it from the
    creative list.
-#}

with

source as (

    select * from {{ source('linkedin', 'creative_analytics') }}

),

parsed as (

    select
        {{ linkedin_date_day() }} as date_day,
        workspace_id,
        'linkedin' as platform,
        account_id,
        replace({{ json_text('payload', 'pivotValues', '0') }}, 'urn:li:sponsoredCreative:', '') as creative_id,
        cast(null as {{ dbt.type_string() }}) as currency,
{{ linkedin_canonical_metrics() }},
        sync_run_id,
        extracted_at

    from source

),

deduplicated as (

    {{ latest_extraction('parsed', ['workspace_id', 'account_id', 'creative_id', 'date_day']) }}

),

final as (

    select
        date_day,
        workspace_id,
        platform,
        account_id,
        creative_id,
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
