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

{%- set last_visit_paths = {
    'utm_source': ['customerJourneySummary', 'lastVisit', 'utmParameters', 'source'],
    'utm_medium': ['customerJourneySummary', 'lastVisit', 'utmParameters', 'medium'],
    'utm_campaign': ['customerJourneySummary', 'lastVisit', 'utmParameters', 'campaign'],
    'utm_content': ['customerJourneySummary', 'lastVisit', 'utmParameters', 'content'],
    'utm_term': ['customerJourneySummary', 'lastVisit', 'utmParameters', 'term'],
    'landing_page': ['customerJourneySummary', 'lastVisit', 'landingPage'],
    'referrer_url': ['customerJourneySummary', 'lastVisit', 'referrerUrl'],
} -%}
{%- set fields = {
    'order_id': "regexp_replace(" ~ json_text('payload', 'id') ~ ", '^gid://shopify/Order/', '')",
    'order_name': json_text('payload', 'name'),
    'ordered_at': 'created_at',
    'order_date': 'cast(created_at at time zone store_timezone as date)',
    'updated_at': 'cast(' ~ json_text('payload', 'updatedAt') ~ ' as timestamptz)',
    'currency': 'upper(' ~ json_text('payload', 'totalPriceSet', 'shopMoney', 'currencyCode') ~ ')',
    'gross_revenue': 'coalesce(' ~ amount(json_text('payload', 'totalPriceSet', 'shopMoney', 'amount')) ~ ', 0)',
    'refunded_amount': 'coalesce(' ~ amount(json_text('payload', 'totalRefundedSet', 'shopMoney', 'amount')) ~ ', 0)',
    'is_cancelled': json_text('payload', 'cancelledAt') ~ ' is not null',
    'status': 'lower(' ~ json_text('payload', 'displayFinancialStatus') ~ ')',
    'click_at': 'cast(' ~ json_text('payload', 'customerJourneySummary', 'lastVisit', 'occurredAt') ~ ' as timestamptz)',
} -%}
{%- do fields.update(json_text_fields('payload', last_visit_paths)) -%}

{{ stage_orders(
    source('shopify', 'orders'),
    store_platform='shopify',
    prepared={'created_at': 'cast(' ~ json_text('payload', 'createdAt') ~ ' as timestamptz)'},
    fields=fields,
) }}
