{#-
    What the alert rules compare, per campaign and day: the day's numbers,
    the trailing 28 days BEFORE the day (ratios of sums, and daily averages
    over the days that have a row), the previous day's spend, clicks and
    conversions, the conversions the day's clicks would have brought at the
    28-day conversion rate, the conversion value they would have brought
    with its chance spread and how much wider than that spread the
    campaign's own days have been (`value_dispersion_prior_28d`), the same
    expectations over the day and the two before it (`_last_3d`, with the
    lowest share of its expected value any of the three had), and
    month-to-date spend projected to the month's end. Amounts in the
    account currency.

    The dispersion: each day's conversion value is scored against what its
    clicks would have brought (z, in chance spreads: Poisson conversions of
    orders whose value varies by about a third); the mean of z squared over
    the 28 days before, each capped at 9 (a day 3 spreads out, an incident,
    counts as 3 spreads), divided by 0.97 (that mean for pure chance), is
    how many times the chance variance the campaign really varies by. Real
    campaigns vary more than chance: conversion rates move from day to day,
    a few large orders make a day. A rule that judges a day against the
    chance spread alone alerts on such a campaign's ordinary bad days; with
    at least 14 scored days before it, the spread is widened by the square
    root of the dispersion (never narrowed).

    Incremental like mart_anomalies: a daily run computes only the days from
    `incremental_changed_from()` on, reading the fact from the earlier of 56
    days before them and the first of their month (what their windows
    reach: the dispersion of a day's 28 days before needs their own 28), so every row equals a full rebuild's (tests/test_incremental.py).
    A changed campaign budget (ops.campaign_budgets) reaches the rebuilt
    days; older days keep the budget they were evaluated with until
    `dbt build --full-refresh`.
-#}
{%- set campaign_key = ['workspace_id', 'platform', 'account_id', 'campaign_id'] -%}
{%- set prior = trailing_days_window(campaign_key, 'date_day', 28, offset_days=1) -%}
{%- set last_3_days = trailing_days_window(campaign_key, 'date_day', 3) -%}
{#- The 28 days before's conversions and conversion value per click: what a day's clicks would have brought. -#}
{%- set conversion_rate_prior = cvr('conversions_prior_28d', 'clicks_prior_28d') -%}
{%- set value_per_click_prior = safe_divide('conversion_value_prior_28d', 'clicks_prior_28d') -%}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_date_range',
        unique_key=['date_day', 'workspace_id', 'platform', 'account_id', 'campaign_id'],
        on_schema_change='fail',
        indexes=[{'columns': ['date_day']}],
        post_hook="{{ record_incremental_watermark() }}",
    )
}}
{%- if is_incremental() -%}
    {%- set changed_from = incremental_changed_from() -%}
{%- endif %}

with

fct_ad_performance_daily as (

    select * from {{ ref('fct_ad_performance_daily') }}
    where
        is_active is not false  -- accounts removed from the registry are not alerted on
        {%- if is_incremental() %}
        and date_day >= least(
            {{ dbt.dateadd('day', -56, "cast('" ~ changed_from ~ "' as date)") }},
            cast(date_trunc('month', cast('{{ changed_from }}' as date)) as date)
        )
        {%- endif %}

),

stg_ops__campaign_budgets as (

    select * from {{ ref('stg_ops__campaign_budgets') }}

),

windowed as (

    select
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        currency,
        spend,
        impressions,
        clicks,
        conversions,
        conversion_value,
        count(*) {{ prior }} as prior_days,
        sum(spend) {{ prior }} as spend_prior_28d,
        sum(impressions) {{ prior }} as impressions_prior_28d,
        sum(clicks) {{ prior }} as clicks_prior_28d,
        sum(conversions) {{ prior }} as conversions_prior_28d,
        sum(conversion_value) {{ prior }} as conversion_value_prior_28d,
        sum(spend) {{ trailing_days_window(campaign_key, 'date_day', 1, offset_days=1) }} as spend_previous_day,
        sum(clicks) {{ trailing_days_window(campaign_key, 'date_day', 1, offset_days=1) }} as clicks_previous_day,
        sum(conversions) {{ trailing_days_window(campaign_key, 'date_day', 1, offset_days=1) }} as conversions_previous_day,
        sum(conversion_value) {{ trailing_days_window(campaign_key, 'date_day', 1, offset_days=1) }} as conversion_value_previous_day,
        count(*) {{ last_3_days }} as days_last_3d,
        sum(clicks) {{ last_3_days }} as clicks_last_3d,
        sum(conversions) {{ last_3_days }} as conversions_last_3d,
        sum(conversion_value) {{ last_3_days }} as conversion_value_last_3d,
        sum(spend) over (
            partition by {{ campaign_key | join(', ') }}, date_trunc('month', date_day)
            order by date_day
        ) as spend_month_to_date

    from fct_ad_performance_daily

),

expected as (

    select
        windowed.*,
        {{ ctr('clicks', 'impressions') }} as ctr,
        {{ roas('conversion_value', 'spend') }} as roas,
        {{ acos('spend', 'conversion_value') }} as acos,
        {{ ctr('clicks_prior_28d', 'impressions_prior_28d') }} as ctr_prior_28d,
        {{ roas('conversion_value_prior_28d', 'spend_prior_28d') }} as roas_prior_28d,
        {{ safe_divide('spend_prior_28d', 'prior_days') }} as spend_daily_avg_prior_28d,
        {{ safe_divide('conversions_prior_28d', 'prior_days') }} as conversions_daily_avg_prior_28d,
        -- conversions the day's clicks would have brought at the 28-day conversion rate (and the day before's too)
        clicks * {{ conversion_rate_prior }} as conversions_expected,
        clicks_previous_day * {{ conversion_rate_prior }} as conversions_expected_previous_day,
        -- and the conversion value they would have brought, with its chance spread (Poisson conversions times an
        -- order value that varies by about a third: the macro value_chance_spread)
        clicks * {{ value_per_click_prior }} as conversion_value_expected,
        clicks_previous_day * {{ value_per_click_prior }} as conversion_value_expected_previous_day,
        -- the same over the day and the two before it, at the day's 28-day rates
        clicks_last_3d * {{ conversion_rate_prior }} as conversions_expected_last_3d,
        clicks_last_3d * {{ value_per_click_prior }} as conversion_value_expected_last_3d,
        {{ safe_divide('conversion_value_prior_28d', 'conversions_prior_28d') }} as average_order_value_prior_28d,
        {{ day_of_month('date_day') }} as days_elapsed_in_month,
        {{ days_in_month('date_day') }} as days_in_month,
        budgets.monthly_budget

    from windowed
    left join stg_ops__campaign_budgets as budgets
        on
            windowed.workspace_id = budgets.workspace_id
            and windowed.platform = budgets.platform
            and windowed.campaign_id = budgets.campaign_id

),

scored as (

    -- the day's conversion value in chance spreads from what its clicks would have brought (a day expecting
    -- under one conversion says little about the spread, and is not scored)
    select
        expected.*,
        case
            when conversions_expected >= 1 and average_order_value_prior_28d > 0
                then (conversion_value - conversion_value_expected)
                / ({{ value_chance_spread('average_order_value_prior_28d', 'conversions_expected') }})
        end as conversion_value_z,
        -- the lowest share of what its clicks would have brought that the day and the two before it had
        min(conversion_value / nullif(conversion_value_expected, 0)) {{ last_3_days }} as conversion_value_share_min_last_3d

    from expected

),

final as (

    select
        scored.*,
        case
            when count(conversion_value_z) {{ prior }} >= 14
                then greatest(1.0, avg(least(conversion_value_z * conversion_value_z, 9)) {{ prior }} / 0.97)
            else 1.0
        end as value_dispersion_prior_28d

    from scored

)

select * from final
{%- if is_incremental() %}
where date_day >= cast('{{ changed_from }}' as date)
{%- endif %}
