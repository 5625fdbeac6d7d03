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

    A row that cannot be completed (unregistered account, no currency, no FX
    rate) is kept out and listed in `mart_ad_performance_exceptions`;
    `is_active` is false for an account removed from the registry (its
    history stays), refreshed on older days by the post-hook
    (macros/lifecycle.sql).
-#}
-- depends_on: {{ ref('stg_ops__workspace_accounts') }}
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
        post_hook=["{{ record_incremental_watermark() }}", "{{ refresh_is_active() }}"],
    )
}}

with

int_ad_performance_converted as (

    select * from {{ ref('int_ad_performance_converted') }}
    where
        exception_reason is null  -- the others are in mart_ad_performance_exceptions
        {%- if is_incremental() %}
        and date_day >= '{{ incremental_changed_from() }}'
        {%- endif %}

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
        {{ converted_performance_columns() }}

    from int_ad_performance_converted

)

select * from final
