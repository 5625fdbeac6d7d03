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

{%- set fields = {
    'order_id': json_text('payload', 'id'),
    'order_name': json_text('payload', 'reference_id'),
    'ordered_at': local_text_to_utc('ordered_at_local', 'order_timezone'),
    'order_date': 'cast(left(ordered_at_local, 10) as date)',
    'updated_at': local_text_to_utc('updated_at_local', 'order_timezone'),
    'currency': 'upper(' ~ json_text('payload', 'amounts', 'total', 'currency') ~ ')',
    'gross_revenue': 'coalesce(' ~ amount(json_text('payload', 'amounts', 'total', 'amount')) ~ ', 0)',
    'status': 'status',
    'click_at': local_text_to_utc('last_visit_at_local', 'visit_timezone'),
} -%}
{%- do fields.update(refund_from_status(
    'status',
    json_text('payload', 'amounts', 'total', 'amount'),
    json_text('payload', 'amounts', 'refunded', 'amount'),
    refunded_statuses,
    cancelled_statuses,
)) -%}
{%- do fields.update(json_text_fields('payload', utm_paths)) -%}

{{ stage_orders(
    source('salla', 'orders'),
    store_platform='salla',
    prepared={
        'ordered_at_local': json_text('payload', 'date', 'date'),
        'updated_at_local': 'coalesce(' ~ json_text('payload', 'updated_at', 'date')
            ~ ", case when jsonb_typeof(payload -> 'updated_at') = 'string' then " ~ json_text('payload', 'updated_at') ~ ' end)',
        'last_visit_at_local': json_text('payload', 'source_details', 'last_visit_at', 'date'),
        'order_timezone': 'coalesce(nullif(' ~ json_text('payload', 'date', 'timezone') ~ ", ''), store_timezone)",
        'visit_timezone': 'coalesce(nullif(' ~ json_text('payload', 'source_details', 'last_visit_at', 'timezone') ~ ", ''), "
            ~ 'nullif(' ~ json_text('payload', 'date', 'timezone') ~ ", ''), store_timezone)",
        'status': 'lower(' ~ json_text('payload', *status_path) ~ ')',
    },
    fields=fields,
) }}
