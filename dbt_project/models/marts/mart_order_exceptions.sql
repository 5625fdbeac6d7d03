{#-
    Orders that reach the marts incompletely, one row per order and reason,
    so none is lost silently:
      - unknown_currency: the order currency is not in the `fx_rates` seed;
        the order is in fct_orders with null reporting amounts and is left
        out of the reporting-currency sums of mart_workspace_kpis_daily
        (add the currency to the seed and rebuild);
      - missing_rate: the currency is known but has no rate on the order
        date (also fails the `assert_orders_have_fx_rates` test);
      - unregistered_store: the store is not in the registry (no reporting
        currency; time zone taken as UTC);
      - malformed_utm: utm_source or utm_campaign is not valid URL encoding,
        so the order cannot be attributed.
-#}

with

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

fct_attributed_orders as (

    select * from {{ ref('fct_attributed_orders') }}

),

fx_exceptions as (

    select
        order_key,
        fx_status as reason,
        'order currency ' || coalesce(currency, 'null') || ', reporting currency '
        || coalesce(reporting_currency, 'null') || ', order date ' || cast(order_date as text) as detail

    from fct_orders
    where fx_status in ('unknown_currency', 'missing_rate', 'unregistered_store')

),

attribution_exceptions as (

    select
        order_key,
        attribution_rule as reason,
        'utm_source ' || coalesce(utm_source, 'null') || ', utm_campaign ' || coalesce(utm_campaign, 'null') as detail

    from fct_attributed_orders
    where attribution_rule = 'malformed_utm'

),

exceptions as (

    select * from fx_exceptions
    union all
    select * from attribution_exceptions

),

final as (

    select
        exceptions.order_key,
        exceptions.reason,
        exceptions.detail,
        fct_orders.order_id,
        fct_orders.workspace_id,
        fct_orders.store_platform,
        fct_orders.store_id,
        fct_orders.order_date,
        fct_orders.currency,
        fct_orders.revenue

    from exceptions
    inner join fct_orders
        on exceptions.order_key = fct_orders.order_key

)

select * from final
