{#-
    Every version of each campaign-day's spend, conversions and conversion value
    the warehouse has held (a check snapshot after each build of the fact).
    A version is stamped with `observed_through`: the latest day of its
    account's data when it was seen (the report date of the account's last
    sync), not the wall clock, so "how many days after the day did it stop
    changing" counts report days (mart_restatements). History starts with the
    first build that includes this snapshot; a full refresh of the marts keeps it.
-#}
{% snapshot snap_ad_performance_daily %}
{{
    config(
        target_schema='snapshots',
        unique_key='ad_performance_id',
        strategy='check',
        check_cols=['spend', 'conversions', 'conversion_value'],
        updated_at='observed_through',
        tags=['rollup'],
    )
}}

select
    ad_performance_id,
    date_day,
    workspace_id,
    platform,
    account_id,
    campaign_id,
    currency,
    spend,
    conversions,
    conversion_value,
    cast(max(date_day) over (partition by workspace_id, platform, account_id) as timestamp) as observed_through

from {{ ref('fct_ad_performance_daily') }}

{% endsnapshot %}
