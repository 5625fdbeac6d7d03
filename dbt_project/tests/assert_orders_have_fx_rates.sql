-- Every order in a currency the fx_rates seed knows must convert on its
-- order date: one failing row per currency, reporting currency and day
-- without a rate (a day before the currency's first row in the seed).
-- Orders in a currency the seed does not list are not failures here: they
-- are kept with fx_status 'unknown_currency' and listed in
-- mart_order_exceptions. A warning: the order is kept with no reporting
-- amount (fx_status 'missing_rate', in mart_order_exceptions) and the
-- data_quality task alerts its workspace; the other workspaces build.
{{ config(severity='warn') }}

with

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

final as (

    select
        currency,
        reporting_currency,
        order_date as missing_rate_date,
        count(*) as orders

    from fct_orders
    where fx_status = 'missing_rate'
    group by currency, reporting_currency, order_date

)

select * from final
