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

{%- set attribution_keys = {
    'utm_source': '_wc_order_attribution_utm_source',
    'utm_medium': '_wc_order_attribution_utm_medium',
    'utm_campaign': '_wc_order_attribution_utm_campaign',
    'utm_content': '_wc_order_attribution_utm_content',
    'utm_term': '_wc_order_attribution_utm_term',
    'landing_page': '_wc_order_attribution_session_entry',
    'referrer_url': '_wc_order_attribution_referrer',
} -%}
{%- set fields = {
    'order_id': json_text('payload', 'id'),
    'order_name': 'coalesce(' ~ json_text('payload', 'number') ~ ', ' ~ json_text('payload', 'id') ~ ')',
    'ordered_at': local_text_to_utc(json_text('payload', 'date_created_gmt'), "'UTC'"),
    'order_date': 'cast(left(' ~ json_text('payload', 'date_created') ~ ', 10) as date)',
    'updated_at': local_text_to_utc(json_text('payload', 'date_modified_gmt'), "'UTC'"),
    'currency': 'upper(' ~ json_text('payload', 'currency') ~ ')',
    'gross_revenue': 'gross_revenue',
    'refunded_amount': "case when coalesce(listed_refunds, 0) = 0 and status = 'refunded' then gross_revenue"
        ~ ' else coalesce(listed_refunds, 0) end',
    'is_cancelled': "status in ('cancelled', 'failed')",
    'status': 'status',
    'click_at': local_text_to_utc(woocommerce_meta_value('payload', '_wc_order_attribution_session_start_time'), 'store_timezone'),
} -%}
{%- for name, key in attribution_keys.items() -%}
    {%- do fields.update({name: woocommerce_meta_value('payload', key)}) -%}
{%- endfor -%}

{{ stage_orders(
    source('woocommerce', 'orders'),
    store_platform='woocommerce',
    prepared={
        'status': 'lower(' ~ json_text('payload', 'status') ~ ')',
        'gross_revenue': 'coalesce(' ~ amount(json_text('payload', 'total')) ~ ', 0)',
        'listed_refunds': '(select -sum(' ~ amount("refund ->> 'total'") ~ ') from jsonb_array_elements('
            ~ "case when jsonb_typeof(payload -> 'refunds') = 'array' then payload -> 'refunds' else '[]'::jsonb end"
            ~ ') as refund)',
    },
    fields=fields,
) }}
