{#-
    One row per store order, amounts in the order currency and in the
    workspace's reporting currency, converted at the order date's rate
    (store-local day) through `int_fx_rates_daily` (a cross rate over USD).

    A table, rebuilt whole on every run: an order changes for weeks after it
    is placed (refunds, cancellations) and is re-pulled under its order date,
    so replacing recent days would miss late changes to older orders; store
    order volumes keep a full rebuild cheap.

    `fx_status` says what happened to the conversion; reporting amounts are
    null unless it is `same_currency` or `converted`:
      - same_currency: order and reporting currency are equal (rate 1);
      - converted: both currencies have a rate on the order date;
      - missing_rate: a currency in the `fx_rates` seed has no rate on the
        day (before its first row); fails the
        `assert_orders_have_fx_rates` test, which names currency and day;
      - unknown_currency: the order currency is not in the seed at all; the
        order is kept and listed in `mart_order_exceptions`;
      - unregistered_store: the store is not in the registry, so there is no
        reporting currency; also listed there.
-#}
{{
    config(
        indexes=[
            {'columns': ['order_date']},
            {'columns': ['workspace_id', 'store_platform', 'order_date']},
            {'columns': ['order_key'], 'unique': True},
        ],
    )
}}

with

int_orders_unioned as (

    select * from {{ ref('int_orders_unioned') }}

),

int_fx_rates_daily as (

    select * from {{ ref('int_fx_rates_daily') }}

),

fx_rates as (

    select distinct currency_code from {{ ref('fx_rates') }}

),

with_fx_rate as (

    select
        orders.*,
        case
            when not orders.is_store_registered then 'unregistered_store'
            when orders.currency = orders.reporting_currency then 'same_currency'
            when order_currencies.currency_code is null then 'unknown_currency'
            when currency_fx.usd_per_unit is null or reporting_fx.usd_per_unit is null then 'missing_rate'
            else 'converted'
        end as fx_status,
        {{ fx_rate_to_reporting('orders') }} as fx_rate_to_reporting

    from int_orders_unioned as orders
    left join fx_rates as order_currencies
        on orders.currency = order_currencies.currency_code
    {{ fx_rate_joins('orders', 'order_date') }}

),

final as (

    select
        {{ surrogate_key(['workspace_id', 'store_platform', 'store_id', 'order_id']) }} as order_key,
        order_id,
        workspace_id,
        store_platform,
        store_id,
        order_name,
        ordered_at,
        order_date,
        updated_at,
        currency,
        reporting_currency,
        fx_status,
        fx_rate_to_reporting,
        gross_revenue,
        refunded_amount,
        net_revenue as revenue,
        gross_revenue * fx_rate_to_reporting as gross_revenue_reporting,
        refunded_amount * fx_rate_to_reporting as refunded_amount_reporting,
        net_revenue * fx_rate_to_reporting as revenue_reporting,
        is_refunded,
        is_cancelled,
        status,
        utm_source,
        utm_medium,
        utm_campaign,
        utm_content,
        utm_term,
        click_at,
        landing_page,
        referrer_url

    from with_fx_rate

)

select * from final
