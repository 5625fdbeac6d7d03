-- Every currency the fact converts should have a rate observed at most
-- `fx_max_rate_age_days` before the day: an older rate means the fx_rates
-- seed needs newer rows. Warns with one row per stale currency and day.
{{ config(severity='warn') }}

with

fct_ad_performance_daily as (

    select * from {{ ref('fct_ad_performance_daily') }}

),

int_fx_rates_daily as (

    select * from {{ ref('int_fx_rates_daily') }}

),

converted_currency_days as (

    select distinct date_day, currency as currency_code
    from fct_ad_performance_daily
    where currency <> reporting_currency

    union

    select distinct date_day, reporting_currency as currency_code
    from fct_ad_performance_daily
    where currency <> reporting_currency

),

final as (

    select
        converted_currency_days.date_day,
        converted_currency_days.currency_code,
        int_fx_rates_daily.rate_date

    from converted_currency_days
    inner join int_fx_rates_daily
        on
            converted_currency_days.date_day = int_fx_rates_daily.date_day
            and converted_currency_days.currency_code = int_fx_rates_daily.currency_code
    where int_fx_rates_daily.rate_date < {{ dbt.dateadd('day', -var('fx_max_rate_age_days'), 'converted_currency_days.date_day') }}

)

select * from final
