{#-
    How much each account-day changed after it was first extracted, and when
    it stopped changing: per platform, account and day, spend, conversions and
    conversion value as first seen and as now (account currency), the change
    in amount and percent, how many times the day was restated, and
    `days_until_final`: report days from the day to the sync that last changed
    it. A day first seen with its account's latest data is `is_settled` once a
    later sync brought nothing new for it for `restatement_settle_days` days.
    From snap_ad_performance_daily (every version the warehouse held).
-#}
{{ config(materialized='table', tags=['rollup'], indexes=[{'columns': ['workspace_id', 'platform', 'account_id', 'date_day'], 'unique': True}]) }}

with

versions as (

    select
        *,
        row_number() over (partition by ad_performance_id order by dbt_valid_from, dbt_updated_at) as version_asc,
        row_number() over (partition by ad_performance_id order by dbt_valid_from desc, dbt_updated_at desc) as version_desc

    from {{ ref('snap_ad_performance_daily') }}

),

campaign_days as (

    select
        ad_performance_id,
        date_day,
        workspace_id,
        platform,
        account_id,
        max(currency) as currency,
        sum(case when version_asc = 1 then spend end) as first_spend,
        sum(case when version_desc = 1 then spend end) as latest_spend,
        sum(case when version_asc = 1 then conversions end) as first_conversions,
        sum(case when version_desc = 1 then conversions end) as latest_conversions,
        sum(case when version_asc = 1 then conversion_value end) as first_conversion_value,
        sum(case when version_desc = 1 then conversion_value end) as latest_conversion_value,
        count(*) - 1 as restatements,
        min(dbt_valid_from) as first_observed_through,
        max(dbt_valid_from) as last_changed_through,
        max(observed_through) as observed_through

    from versions
    group by 1, 2, 3, 4, 5

),

account_days as (

    select
        date_day,
        workspace_id,
        platform,
        account_id,
        max(currency) as currency,
        sum(first_spend) as first_spend,
        sum(latest_spend) as latest_spend,
        sum(first_conversions) as first_conversions,
        sum(latest_conversions) as latest_conversions,
        sum(first_conversion_value) as first_conversion_value,
        sum(latest_conversion_value) as latest_conversion_value,
        max(restatements) as restatements,
        cast(min(first_observed_through) as date) as first_extracted_through,
        cast(max(last_changed_through) as date) as last_changed_through,
        cast(max(observed_through) as date) as observed_through

    from campaign_days
    group by 1, 2, 3, 4

)

select
    date_day,
    workspace_id,
    platform,
    account_id,
    currency,
    first_spend,
    latest_spend,
    latest_spend - first_spend as spend_change,
    {{ safe_divide('latest_spend - first_spend', 'first_spend') }} as spend_change_share,
    first_conversions,
    latest_conversions,
    latest_conversions - first_conversions as conversions_change,
    {{ safe_divide('latest_conversions - first_conversions', 'first_conversions') }} as conversions_change_share,
    first_conversion_value,
    latest_conversion_value,
    latest_conversion_value - first_conversion_value as conversion_value_change,
    {{ safe_divide('latest_conversion_value - first_conversion_value', 'first_conversion_value') }} as conversion_value_change_share,
    restatements,
    first_extracted_through,
    last_changed_through,
    observed_through,
    last_changed_through - date_day as days_until_final,
    observed_through - last_changed_through >= {{ var('restatement_settle_days') }} as is_settled

from account_days
