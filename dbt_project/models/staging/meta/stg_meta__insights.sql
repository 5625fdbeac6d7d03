{#-
    Conversions are the configured purchase action type only
    (var `meta_purchase_action_type`). Meta repeats one purchase under several
    types (`purchase`, `omni_purchase`, `offsite_conversion.fb_pixel_purchase`,
    ...); adding them up would count it several times.
-#}
{%- set purchase_action_type = var('meta_purchase_action_type') -%}

with

source as (

    select * from {{ source('meta', 'insights') }}

),

parsed as (

    select
        cast({{ json_text('payload', 'date_start') }} as date) as date_day,
        workspace_id,
        'meta' as platform,
        account_id,
        {{ json_text('payload', 'campaign_id') }} as campaign_id,
        {{ json_text('payload', 'campaign_name') }} as campaign_name,
        upper({{ json_text('payload', 'account_currency') }}) as currency,
        coalesce(cast({{ json_text('payload', 'impressions') }} as bigint), 0) as impressions,
        coalesce(cast({{ json_text('payload', 'clicks') }} as bigint), 0) as clicks,
        coalesce(cast({{ json_text('payload', 'spend') }} as numeric), 0) as spend,
        coalesce({{ json_action_value('payload', 'actions', purchase_action_type) }}, 0) as conversions,
        coalesce({{ json_action_value('payload', 'action_values', purchase_action_type) }}, 0) as conversion_value,
        cast({{ json_text('payload', 'reach') }} as bigint) as reach,
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
        reach,
        sync_run_id,
        extracted_at

    from deduplicated
    where extraction_rank = 1

)

select * from final
