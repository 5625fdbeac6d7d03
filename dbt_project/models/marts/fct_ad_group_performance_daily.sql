{#-
    One row per date_day, workspace_id, platform, account_id, campaign_id,
    ad_group_id: the ad group grain under `fct_ad_performance_daily`, for the
    platforms that report it. Its additive metrics sum to the campaign fact
    per campaign-day (tests/assert_fine_grain_facts_reconcile_to_campaigns.sql).
    Incremental and indexed like `fct_ad_performance_daily`.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_date_range',
        unique_key=['date_day', 'workspace_id', 'platform', 'account_id', 'campaign_id', 'ad_group_id'],
        on_schema_change='fail',
        indexes=[
            {'columns': ['date_day']},
            {'columns': ['workspace_id', 'platform', 'date_day']},
            {'columns': ['ad_group_performance_id']},
        ],
        post_hook=["{{ record_incremental_watermark() }}", "{{ refresh_is_active() }}"],
    )
}}
-- depends_on: {{ ref('stg_ops__workspace_accounts') }}

{{ fct_fine_grain('int_ad_group_performance_unioned', 'ad_group_performance_id', ['ad_group_id'], ['ad_group_name']) }}
