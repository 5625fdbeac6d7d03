{#-
    One row per date_day, workspace_id, platform, account_id, campaign_id.
    Money in the account currency, and in the workspace's reporting currency
    through the daily FX table (a cross rate over USD).

    Incremental: a daily run rebuilds the days from `incremental_changed_from()`
    on (the platforms' restatement lookback, and any older days a load just
    replaced) and replaces them whole (macros/incremental.sql);
    `dbt build --full-refresh` rebuilds everything and gives the same rows.
    New columns are appended to an existing table (older days keep null in
    them until a full refresh). Campaign names from the platforms' campaign
    lists (Snapchat, LinkedIn) are those of the latest list: a rename reaches
    the days the run rebuilds; a full refresh renames the history.
    Indexed for BI filters on workspace, platform and date.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_date_range',
        unique_key=['date_day', 'workspace_id', 'platform', 'account_id', 'campaign_id'],
        on_schema_change='append_new_columns',
        indexes=[
            {'columns': ['date_day']},
            {'columns': ['workspace_id', 'platform', 'date_day']},
            {'columns': ['ad_performance_id']},
        ],
        post_hook="{{ record_incremental_watermark() }}",
    )
}}

with

int_ad_performance_unioned as (

    select * from {{ ref('int_ad_performance_unioned') }}
    {%- if is_incremental() %}
    where date_day >= '{{ incremental_changed_from() }}'
    {%- endif %}

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
        {{ surrogate_key(['date_day', 'workspace_id', 'platform', 'account_id', 'campaign_id']) }} as ad_performance_id,
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        campaign_group_id,
        campaign_group_name,
        currency,
        reporting_currency,
        fx_rate_to_reporting,
        spend,
        spend * fx_rate_to_reporting as spend_reporting,
        impressions,
        clicks,
        conversions,
        conversion_value,
        conversion_value * fx_rate_to_reporting as conversion_value_reporting

    from with_fx_rate

)

select * from final
