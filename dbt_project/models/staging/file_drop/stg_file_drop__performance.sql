{#-
    Rows of CSV/JSON file drops, already mapped to the canonical fields by the
    loader (registry `file_drop.columns`), money as exact decimal strings. A
    later file restates the campaign-days it covers: the latest load wins.
    The currency comes from the registry.
-#}

with

source as (

    select * from {{ source('file_drop', 'performance') }}

),

parsed as (

    select
        cast({{ json_text('payload', 'date') }} as date) as date_day,
        workspace_id,
        'file_drop' as platform,
        account_id,
        {{ json_text('payload', 'campaign_id') }} as campaign_id,
        {{ json_text('payload', 'campaign_name') }} as campaign_name,
        cast(null as {{ dbt.type_string() }}) as currency,
        coalesce(cast({{ json_text('payload', 'impressions') }} as bigint), 0) as impressions,
        coalesce(cast({{ json_text('payload', 'clicks') }} as bigint), 0) as clicks,
        coalesce(cast({{ json_text('payload', 'spend') }} as numeric), 0) as spend,
        coalesce(cast({{ json_text('payload', 'conversions') }} as numeric), 0) as conversions,
        coalesce(cast({{ json_text('payload', 'conversion_value') }} as numeric), 0) as conversion_value,
        {{ json_text('payload', 'file') }} as file_name,
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
            order by extracted_at desc, sync_run_id desc, file_name desc
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

        sync_run_id,
        extracted_at

    from deduplicated
    where extraction_rank = 1

)

select * from final
