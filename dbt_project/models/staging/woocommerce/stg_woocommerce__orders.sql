{#-
    WooCommerce orders (REST v3), one row per order: the latest version by
    `date_modified_gmt`, then extraction time. `ordered_at` is
    `date_created_gmt` (UTC); `order_date` is the date of `date_created`, the
    store's own local time. `refunds[].total` are negative strings: the
    refunded amount is minus their sum (the whole total when the status is
    `refunded` and no refund is listed). `cancelled` and `failed` orders were
    never paid: no net revenue. UTMs and the referrer come from the order
    attribution entries in `meta_data`; the click time is
    `_wc_order_attribution_session_start_time`, site-local wall-clock time
    converted with the store's registry time zone (UTC when unregistered).
-#}

with

source as (

    select * from {{ source('woocommerce', 'orders') }}

),

store_timezones as (

    {{ store_timezones('woocommerce') }}

),

parsed as (

    select
        {{ json_text('payload', 'id') }} as order_id,
        source.workspace_id,
        'woocommerce' as store_platform,
        account_id as store_id,
        coalesce({{ json_text('payload', 'number') }}, {{ json_text('payload', 'id') }}) as order_name,
        {{ local_text_to_utc(json_text('payload', 'date_created_gmt'), "'UTC'") }} as ordered_at,
        cast(left({{ json_text('payload', 'date_created') }}, 10) as date) as order_date,
        {{ local_text_to_utc(json_text('payload', 'date_modified_gmt'), "'UTC'") }} as updated_at,
        upper({{ json_text('payload', 'currency') }}) as currency,
        coalesce({{ amount(json_text('payload', 'total')) }}, 0) as gross_revenue,
        (
            select -sum({{ amount("refund ->> 'total'") }})
            from jsonb_array_elements(
                case when jsonb_typeof(payload -> 'refunds') = 'array' then payload -> 'refunds' else '[]'::jsonb end
            ) as refund
        ) as listed_refunds,
        lower({{ json_text('payload', 'status') }}) as status,
        {{ woocommerce_meta_value('payload', '_wc_order_attribution_utm_source') }} as utm_source,
        {{ woocommerce_meta_value('payload', '_wc_order_attribution_utm_medium') }} as utm_medium,
        {{ woocommerce_meta_value('payload', '_wc_order_attribution_utm_campaign') }} as utm_campaign,
        {{ woocommerce_meta_value('payload', '_wc_order_attribution_utm_content') }} as utm_content,
        {{ woocommerce_meta_value('payload', '_wc_order_attribution_utm_term') }} as utm_term,
        {{ local_text_to_utc(woocommerce_meta_value('payload', '_wc_order_attribution_session_start_time'), "coalesce(store_timezones.timezone, 'UTC')") }} as click_at,
        {{ woocommerce_meta_value('payload', '_wc_order_attribution_session_entry') }} as landing_page,
        {{ woocommerce_meta_value('payload', '_wc_order_attribution_referrer') }} as referrer_url,
        sync_run_id,
        extracted_at

    from source
    left join store_timezones
        on
            source.workspace_id = store_timezones.workspace_id
            and source.account_id = store_timezones.store_id

),

with_refunds as (

    select
        *,
        case
            when coalesce(listed_refunds, 0) = 0 and status = 'refunded' then gross_revenue
            else coalesce(listed_refunds, 0)
        end as refunded_amount,
        status in ('cancelled', 'failed') as is_cancelled

    from parsed

),

{{ latest_order_version('with_refunds') }}

select * from final
