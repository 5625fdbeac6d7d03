{#-
    Ad spend against store revenue, per workspace and day, in the workspace's
    reporting currency. Two kinds of rows:

      - one per ad platform (`platform` = meta, google_ads, ...): spend, the
        platform's own reported conversion value and ROAS, and the store
        revenue (net of refunds) of the orders attributed to that platform's
        campaigns (fct_attributed_orders) and its ROAS;
      - one with `platform = 'all'`: total ad spend, all store revenue (every
        store of the workspace, net of refunds), blended ROAS (MER = store
        revenue / ad spend), attributed revenue over all platforms, and the
        revenue and share of store revenue no campaign claims.

    The day is each source's own day: ad platforms' `date_day` (the account's
    time zone) and stores' `order_date` (the store's time zone), as the other
    marts do. An order counts on its order date, at its current net revenue
    (a later refund lowers the day the order was placed). Orders whose
    reporting amount is unknown (fx_status unknown_currency, missing_rate,
    unregistered_store; see mart_order_exceptions) are left out of the sums.

    Trailing 7- and 28-day windows are calendar ranges ending on the row's
    day; every ratio is a ratio of sums through the KPI macros (null on a
    zero denominator).
-#}
{{
    config(
        indexes=[
            {'columns': ['date_day']},
            {'columns': ['workspace_id', 'platform', 'date_day']},
        ],
    )
}}
{%- set partition = ['workspace_id', 'platform'] -%}
{%- set measures = ['spend', 'platform_revenue', 'attributed_revenue', 'store_revenue', 'unclaimed_revenue'] -%}
{%- set windows = {'7d': 7, '28d': 28} -%}

with

fct_ad_performance_daily as (

    select * from {{ ref('fct_ad_performance_daily') }}

),

fct_attributed_orders as (

    select * from {{ ref('fct_attributed_orders') }}

),

ad_platform_days as (

    select
        workspace_id,
        platform,
        date_day,
        max(reporting_currency) as reporting_currency,
        sum(spend_reporting) as spend,
        sum(conversion_value_reporting) as platform_revenue

    from fct_ad_performance_daily
    group by workspace_id, platform, date_day

),

attributed_platform_days as (

    select
        workspace_id,
        platform,
        order_date as date_day,
        max(reporting_currency) as reporting_currency,
        coalesce(sum(revenue_reporting), 0) as attributed_revenue,
        count(*) as attributed_orders

    from fct_attributed_orders
    where is_attributed
    group by workspace_id, platform, order_date

),

store_days as (

    select
        workspace_id,
        order_date as date_day,
        max(reporting_currency) as reporting_currency,
        coalesce(sum(revenue_reporting), 0) as store_revenue,
        coalesce(sum(case when is_attributed then revenue_reporting end), 0) as attributed_revenue,
        count(*) as store_orders,
        count(case when is_attributed then 1 end) as attributed_orders

    from fct_attributed_orders
    group by workspace_id, order_date

),

ad_workspace_days as (

    select
        workspace_id,
        date_day,
        max(reporting_currency) as reporting_currency,
        sum(spend) as spend,
        sum(platform_revenue) as platform_revenue

    from ad_platform_days
    group by workspace_id, date_day

),

platform_rows as (

    select
        coalesce(ads.workspace_id, attributed.workspace_id) as workspace_id,
        coalesce(ads.platform, attributed.platform) as platform,
        coalesce(ads.date_day, attributed.date_day) as date_day,
        coalesce(ads.reporting_currency, attributed.reporting_currency) as reporting_currency,
        coalesce(ads.spend, 0) as spend,
        coalesce(ads.platform_revenue, 0) as platform_revenue,
        coalesce(attributed.attributed_revenue, 0) as attributed_revenue,
        coalesce(attributed.attributed_orders, 0) as attributed_orders,
        cast(null as numeric) as store_revenue,
        cast(null as bigint) as store_orders,
        cast(null as numeric) as unclaimed_revenue

    from ad_platform_days as ads
    full outer join attributed_platform_days as attributed
        on
            ads.workspace_id = attributed.workspace_id
            and ads.platform = attributed.platform
            and ads.date_day = attributed.date_day

),

workspace_rows as (

    select
        coalesce(ads.workspace_id, stores.workspace_id) as workspace_id,
        'all' as platform,
        coalesce(ads.date_day, stores.date_day) as date_day,
        coalesce(ads.reporting_currency, stores.reporting_currency) as reporting_currency,
        coalesce(ads.spend, 0) as spend,
        coalesce(ads.platform_revenue, 0) as platform_revenue,
        coalesce(stores.attributed_revenue, 0) as attributed_revenue,
        coalesce(stores.attributed_orders, 0) as attributed_orders,
        coalesce(stores.store_revenue, 0) as store_revenue,
        coalesce(stores.store_orders, 0) as store_orders,
        coalesce(stores.store_revenue, 0) - coalesce(stores.attributed_revenue, 0) as unclaimed_revenue

    from ad_workspace_days as ads
    full outer join store_days as stores
        on
            ads.workspace_id = stores.workspace_id
            and ads.date_day = stores.date_day

),

daily as (

    select * from platform_rows
    union all
    select * from workspace_rows

),

windowed_sums as (

    select
        *,
        {%- for suffix, days in windows.items() %}
        {%- set outer_last = loop.last %}
        {%- for measure in measures %}
        sum({{ measure }}) {{ trailing_days_window(partition, 'date_day', days) }} as {{ measure }}_{{ suffix }}{{ ',' if not (outer_last and loop.last) }}
        {%- endfor %}
        {%- endfor %}

    from daily

),

final as (

    select
        date_day,
        workspace_id,
        platform,
        reporting_currency,
        spend,
        platform_revenue,
        {{ roas('platform_revenue', 'spend') }} as platform_roas,
        attributed_orders,
        attributed_revenue,
        {{ roas('attributed_revenue', 'spend') }} as attributed_roas,
        store_orders,
        store_revenue,
        {{ roas('store_revenue', 'spend') }} as blended_roas,
        unclaimed_revenue,
        {{ safe_divide('unclaimed_revenue', 'store_revenue') }} as unclaimed_revenue_share,
        {%- for suffix in windows %}
        {%- for measure in measures %}
        {{ measure }}_{{ suffix }},
        {%- endfor %}
        {{ roas('platform_revenue_' ~ suffix, 'spend_' ~ suffix) }} as platform_roas_{{ suffix }},
        {{ roas('attributed_revenue_' ~ suffix, 'spend_' ~ suffix) }} as attributed_roas_{{ suffix }},
        {{ roas('store_revenue_' ~ suffix, 'spend_' ~ suffix) }} as blended_roas_{{ suffix }},
        {{ safe_divide('unclaimed_revenue_' ~ suffix, 'store_revenue_' ~ suffix) }} as unclaimed_revenue_share_{{ suffix }}{{ ',' if not loop.last }}
        {%- endfor %}

    from windowed_sums

)

select * from final
