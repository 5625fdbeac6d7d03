{#-
    Every store's orders in the canonical columns, with the store's registry
    entry (platform = the store platform, account_id = the store id): its
    currency (used when an order carries none) and the workspace's
    reporting currency. An order of an unregistered store keeps its row with
    `is_store_registered` false and a null reporting currency; fct_orders
    marks it and mart_order_exceptions lists it.
-#}

{%- set store_models = [
    'stg_shopify__orders',
    'stg_woocommerce__orders',
    'stg_salla__orders',
    'stg_zid__orders',
] -%}
{%- set canonical_columns = [
    'order_id', 'workspace_id', 'store_platform', 'store_id', 'order_name', 'ordered_at', 'order_date',
    'updated_at', 'currency', 'gross_revenue', 'refunded_amount', 'net_revenue', 'is_refunded',
    'is_cancelled', 'status', 'utm_source', 'utm_medium', 'utm_campaign', 'utm_content',
    'utm_term', 'click_at',
    'landing_page', 'referrer_url',
] -%}

with

{{ union_models_ctes(store_models, canonical_columns) }},

stg_ops__workspace_accounts as (

    select * from {{ ref('stg_ops__workspace_accounts') }}

),

with_store as (

    select
        {%- for column in canonical_columns if column != 'currency' %}
        unioned.{{ column }},
        {%- endfor %}
        coalesce(unioned.currency, stores.currency) as currency,
        stores.reporting_currency,
        stores.account_id is not null as is_store_registered

    from unioned
    left join stg_ops__workspace_accounts as stores
        on
            unioned.workspace_id = stores.workspace_id
            and unioned.store_platform = stores.platform
            and unioned.store_id = stores.account_id

),

final as (

    select * from with_store

)

select * from final
