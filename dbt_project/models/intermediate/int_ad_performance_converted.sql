{#-
    Every campaign-day of `int_ad_performance_unioned` with its rate to the
    workspace's reporting currency (a cross rate over USD from the daily FX
    table) and, for a row that cannot be completed, why
    (macros/lifecycle.sql): `fct_ad_performance_daily` takes the complete
    rows, `mart_ad_performance_exceptions` the others. A view: the facts'
    incremental date filter reaches the platforms' staging through it.
-#}

with

int_ad_performance_unioned as (

    select * from {{ ref('int_ad_performance_unioned') }}

),

int_fx_rates_daily as (

    select * from {{ ref('int_fx_rates_daily') }}

),

with_fx_rate as (

    select
        performance.*,
        {{ fx_rate_to_reporting('performance') }} as fx_rate_to_reporting

    from int_ad_performance_unioned as performance
    {{ fx_rate_joins('performance', 'date_day') }}

),

final as (

    select
        *,
        {{ ad_performance_exception_reason('with_fx_rate') }} as exception_reason,
        {{ ad_performance_exception_detail('with_fx_rate') }} as exception_detail

    from with_fx_rate

)

select * from final
