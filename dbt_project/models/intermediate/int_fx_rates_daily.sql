{#-
    One rate per currency and day from `fx_spine_start` to `fx_spine_end`:
    the most recent rate in the `fx_rates` seed on or before the day, carried
    forward. A day before a currency's first rate (or a currency missing from
    the seed) has no row, so the fact's reporting-currency amounts are null
    and its not_null tests fail.
-#}

with

fx_rates as (

    select * from {{ ref('fx_rates') }}

),

calendar as (

    {{ date_spine(var('fx_spine_start'), var('fx_spine_end')) }}

),

rate_periods as (

    select
        currency_code,
        rate_date,
        usd_per_unit,
        lead(rate_date) over (
            partition by currency_code
            order by rate_date
        ) as next_rate_date

    from fx_rates

),

carried_forward as (

    select
        calendar.date_day,
        rate_periods.currency_code,
        rate_periods.usd_per_unit,
        rate_periods.rate_date

    from calendar
    inner join rate_periods
        on
            calendar.date_day >= rate_periods.rate_date
            and (
                rate_periods.next_rate_date is null
                or calendar.date_day < rate_periods.next_rate_date
            )

),

final as (

    select * from carried_forward

)

select * from final
