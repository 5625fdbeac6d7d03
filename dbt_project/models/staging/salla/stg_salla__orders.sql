{#-
    Salla orders, one row per order: the latest version by `updated_at`,
    then extraction time. Salla dates are objects
    `{date, timezone_type, timezone}`: `date` is wall-clock time in
    `timezone` (else the store's registry time zone, else UTC); `ordered_at`
    and `updated_at` convert them to UTC, `order_date` is the local date.
    Amounts are JSON numbers in major units. `amounts.refunded.amount` is the
    refunded total; when it is absent a `restored` (Salla's refunded slug) or
    `refunded` status refunds the whole total. A `canceled` order has no net
    revenue. `completed` covers paid and partially refunded orders.

    UTMs, landing page, referrer and the last visit (the click time) are in
    `source_details` (`utm{source,medium,campaign,content,term}`, `referrer`,
    `landing_page`, `last_visit_at{date,timezone}`). The JSON paths are set
    once, below, so a change in Salla's payload is a one-line fix.
-#}
{%- set status_path = ['status', 'slug'] -%}
{%- set refunded_statuses = ['restored', 'refunded'] -%}
{%- set cancelled_statuses = ['canceled', 'cancelled'] -%}
{%- set utm_paths = {
    'utm_source': ['source_details', 'utm', 'source'],
    'utm_medium': ['source_details', 'utm', 'medium'],
    'utm_campaign': ['source_details', 'utm', 'campaign'],
    'utm_content': ['source_details', 'utm', 'content'],
    'utm_term': ['source_details', 'utm', 'term'],
    'landing_page': ['source_details', 'landing_page'],
    'referrer_url': ['source_details', 'referrer'],
} -%}

with

source as (

    select * from {{ source('salla', 'orders') }}

),

store_timezones as (

    {{ store_timezones('salla') }}

),

parsed as (

    select
        source.*,
        {{ json_text('source.payload', 'date', 'date') }} as ordered_at_local,
        coalesce(
            {{ json_text('source.payload', 'updated_at', 'date') }},
            case when jsonb_typeof(source.payload -> 'updated_at') = 'string' then {{ json_text('source.payload', 'updated_at') }} end
        ) as updated_at_local,
        {{ json_text('source.payload', 'source_details', 'last_visit_at', 'date') }} as last_visit_at_local,
        coalesce(
            nullif({{ json_text('source.payload', 'date', 'timezone') }}, ''),
            store_timezones.timezone,
            'UTC'
        ) as order_timezone,
        coalesce(
            nullif({{ json_text('source.payload', 'source_details', 'last_visit_at', 'timezone') }}, ''),
            nullif({{ json_text('source.payload', 'date', 'timezone') }}, ''),
            store_timezones.timezone,
            'UTC'
        ) as visit_timezone,
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
        'salla' as store_platform,
        account_id as store_id,
        {{ json_text('payload', 'reference_id') }} as order_name,
        {{ local_text_to_utc('ordered_at_local', 'order_timezone') }} as ordered_at,
        cast(left(ordered_at_local, 10) as date) as order_date,
        {{ local_text_to_utc('updated_at_local', 'order_timezone') }} as updated_at,
        upper({{ json_text('payload', 'amounts', 'total', 'currency') }}) as currency,
        coalesce({{ amount(json_text('payload', 'amounts', 'total', 'amount')) }}, 0) as gross_revenue,
        {{ refund_from_status('status', json_text('payload', 'amounts', 'total', 'amount'), json_text('payload', 'amounts', 'refunded', 'amount'), refunded_statuses, cancelled_statuses) }},
        status,
        {{ json_text_columns('payload', utm_paths) }},
        {{ local_text_to_utc('last_visit_at_local', 'visit_timezone') }} as click_at,
        sync_run_id,
        extracted_at

    from parsed

),

{{ latest_order_version('renamed') }}

select * from final
