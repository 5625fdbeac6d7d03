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

{%- set fields = {
    'order_id': json_text('payload', 'id'),
    'order_name': json_text('payload', 'code'),
    'ordered_at': local_text_to_utc(json_text('payload', 'created_at'), 'store_timezone'),
    'order_date': 'cast(left(' ~ json_text('payload', 'created_at') ~ ', 10) as date)',
    'updated_at': local_text_to_utc(json_text('payload', 'updated_at'), 'store_timezone'),
    'currency': 'upper(' ~ json_text('payload', 'currency_code') ~ ')',
    'gross_revenue': 'coalesce(' ~ amount(json_text('payload', 'order_total')) ~ ', 0)',
    'status': 'status',
    'click_at': local_text_to_utc(json_text('payload', 'marketing', 'last_visit_at'), 'store_timezone'),
} -%}
{%- do fields.update(refund_from_status(
    'status', json_text('payload', 'order_total'), json_text('payload', 'refunded_total'), refunded_statuses, cancelled_statuses
)) -%}
{%- do fields.update(json_text_fields('payload', utm_paths)) -%}

{{ stage_orders(
    source('zid', 'orders'),
    store_platform='zid',
    prepared={'status': 'lower(' ~ json_text('payload', *status_path) ~ ')'},
    fields=fields,
) }}
