{#-
    Shopify orders (Admin GraphQL order nodes), one row per order: the latest
    version by `updatedAt`, then extraction time. `order_id` is the numeric
    part of the gid. Times carry an offset, so `ordered_at` is exact; the
    local `order_date` uses the store's registry time zone (UTC when the
    store is not registered, which `mart_order_exceptions` lists).
    Refunds are `totalRefundedSet`; a cancelled order has no net revenue.
    UTMs, click time, landing page and referrer come from
    `customerJourneySummary.lastVisit` (null when Shopify recorded no visit).
-#}

with

source as (

    select * from {{ source('shopify', 'orders') }}

),

store_timezones as (

    {{ store_timezones('shopify') }}

),

parsed as (

    select
        regexp_replace({{ json_text('source.payload', 'id') }}, '^gid://shopify/Order/', '') as order_id,
        source.workspace_id,
        'shopify' as store_platform,
        source.account_id as store_id,
        {{ json_text('source.payload', 'name') }} as order_name,
        cast({{ json_text('source.payload', 'createdAt') }} as timestamptz) as ordered_at,
        cast(
            cast({{ json_text('source.payload', 'createdAt') }} as timestamptz)
            at time zone coalesce(store_timezones.timezone, 'UTC') as date
        ) as order_date,
        cast({{ json_text('source.payload', 'updatedAt') }} as timestamptz) as updated_at,
        upper({{ json_text('source.payload', 'totalPriceSet', 'shopMoney', 'currencyCode') }}) as currency,
        coalesce({{ amount(json_text('source.payload', 'totalPriceSet', 'shopMoney', 'amount')) }}, 0) as gross_revenue,
        coalesce({{ amount(json_text('source.payload', 'totalRefundedSet', 'shopMoney', 'amount')) }}, 0) as refunded_amount,
        {{ json_text('source.payload', 'cancelledAt') }} is not null as is_cancelled,
        lower({{ json_text('source.payload', 'displayFinancialStatus') }}) as status,
        {{ json_text('source.payload', 'customerJourneySummary', 'lastVisit', 'utmParameters', 'source') }} as utm_source,
        {{ json_text('source.payload', 'customerJourneySummary', 'lastVisit', 'utmParameters', 'medium') }} as utm_medium,
        {{ json_text('source.payload', 'customerJourneySummary', 'lastVisit', 'utmParameters', 'campaign') }} as utm_campaign,
        {{ json_text('source.payload', 'customerJourneySummary', 'lastVisit', 'utmParameters', 'content') }} as utm_content,
        {{ json_text('source.payload', 'customerJourneySummary', 'lastVisit', 'utmParameters', 'term') }} as utm_term,
        cast({{ json_text('source.payload', 'customerJourneySummary', 'lastVisit', 'occurredAt') }} as timestamptz) as click_at,
        {{ json_text('source.payload', 'customerJourneySummary', 'lastVisit', 'landingPage') }} as landing_page,
        {{ json_text('source.payload', 'customerJourneySummary', 'lastVisit', 'referrerUrl') }} as referrer_url,
        source.sync_run_id,
        source.extracted_at

    from source
    left join store_timezones
        on
            source.workspace_id = store_timezones.workspace_id
            and source.account_id = store_timezones.store_id

),

{{ latest_order_version('parsed') }}

select * from final
