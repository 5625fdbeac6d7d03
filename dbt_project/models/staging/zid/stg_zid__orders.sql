{#-
    Zid orders, one row per order: the latest version by `updated_at`, then
    extraction time. `created_at` / `updated_at` are wall-clock times of the
    store: `ordered_at` converts them to UTC with the store's registry time
    zone (UTC when the store is not registered, which
    `mart_order_exceptions` lists); `order_date` is the local date.
    `order_total` and `refunded_total` are strings. The refunded amount is
    `refunded_total`; when it is absent a `refunded` status refunds the whole
    total. A `cancelled` order has no net revenue.

    UTMs, landing page, referrer and the last visit (the click time, local
    like the other dates) are in `marketing` (`utm_source`, `utm_medium`,
    `utm_campaign`, `utm_content`, `utm_term`, `landing_url`, `referer`,
    `last_visit_at`). The JSON paths are set once, below, so a change in
    Zid's payload is a one-line fix.
-#}
{%- set status_path = ['order_status', 'code'] -%}
{%- set refunded_statuses = ['refunded'] -%}
{%- set cancelled_statuses = ['cancelled', 'canceled'] -%}
{%- set utm_paths = {
    'utm_source': ['marketing', 'utm_source'],
    'utm_medium': ['marketing', 'utm_medium'],
    'utm_campaign': ['marketing', 'utm_campaign'],
    'utm_content': ['marketing', 'utm_content'],
    'utm_term': ['marketing', 'utm_term'],
    'landing_page': ['marketing', 'landing_url'],
    'referrer_url': ['marketing', 'referer'],
} -%}

with

source as (

    select * from {{ source('zid', 'orders') }}

),

store_timezones as (

    {{ store_timezones('zid') }}

),

parsed as (

    select
        source.*,
        coalesce(store_timezones.timezone, 'UTC') as store_timezone,
        lower({{ json_text('source.payload', *status_path) }}) as status

    from source
    left join store_timezones
        on
            source.workspace_id = store_timezones.workspace_id
            and source.account_id = store_timezones.store_id

),

renamed as (

    select
        {{ json_text('payload', 'id') }} as order_id,
        workspace_id,
        'zid' as store_platform,
        account_id as store_id,
        {{ json_text('payload', 'code') }} as order_name,
        {{ local_text_to_utc(json_text('payload', 'created_at'), 'store_timezone') }} as ordered_at,
        cast(left({{ json_text('payload', 'created_at') }}, 10) as date) as order_date,
        {{ local_text_to_utc(json_text('payload', 'updated_at'), 'store_timezone') }} as updated_at,
        upper({{ json_text('payload', 'currency_code') }}) as currency,
        coalesce({{ amount(json_text('payload', 'order_total')) }}, 0) as gross_revenue,
        {{ refund_from_status('status', json_text('payload', 'order_total'), json_text('payload', 'refunded_total'), refunded_statuses, cancelled_statuses) }},
        status,
        {{ json_text_columns('payload', utm_paths) }},
        {{ local_text_to_utc(json_text('payload', 'marketing', 'last_visit_at'), 'store_timezone') }} as click_at,
        sync_run_id,
        extracted_at

    from parsed

),

{{ latest_order_version('renamed') }}

select * from final
