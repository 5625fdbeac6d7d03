{#-
    The campaign-days kept out of `fct_ad_performance_daily` because they
    cannot be completed, each with its reason (macros/lifecycle.sql):
    `unregistered_account` (the account is not in the registry),
    `no_currency`, `no_fx_rate` (the `fx_rates` seed has no rate for the
    account's or the workspace's currency on that day). The `data_quality`
    task copies them to `ops.quarantine` and alerts the workspace
    (`data_incomplete`); the other workspaces' marts are not held back.

    Incremental like the fact, over the same days (the fact's last day
    anchors the lookback: this mart is usually empty); a pre-hook clears
    those days first, so a row that has become complete leaves.
-#}
-- depends_on: {{ ref('fct_ad_performance_daily') }}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_date_range',
        unique_key=['date_day', 'workspace_id', 'platform', 'account_id', 'campaign_id'],
        on_schema_change='append_new_columns',
        pre_hook="{% if is_incremental() %}delete from {{ this }} where date_day >= '{{ incremental_changed_from(anchor=ref('fct_ad_performance_daily')) }}'{% endif %}",
        post_hook="{{ record_incremental_watermark() }}",
    )
}}

with

int_ad_performance_converted as (

    select * from {{ ref('int_ad_performance_converted') }}
    where
        exception_reason is not null
        {%- if is_incremental() %}
        and date_day >= '{{ incremental_changed_from(anchor=ref('fct_ad_performance_daily')) }}'
        {%- endif %}

),

final as (

    select
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        currency,
        reporting_currency,
        spend,
        impressions,
        clicks,
        conversions,
        conversion_value,
        exception_reason,
        exception_detail as detail

    from int_ad_performance_converted

)

select * from final
