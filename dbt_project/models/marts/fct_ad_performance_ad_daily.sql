{#-
    One row per date_day, workspace_id, platform, account_id, campaign_id,
    ad_group_id, ad_id: the ad grain under `fct_ad_group_performance_daily`,
    for the platforms that report it. Its additive metrics sum to the campaign
    fact per campaign-day (tests/assert_fine_grain_facts_reconcile_to_campaigns.sql).
    Incremental and indexed like `fct_ad_performance_daily`.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_date_range',
        unique_key=['date_day', 'workspace_id', 'platform', 'account_id', 'campaign_id', 'ad_group_id', 'ad_id'],
        on_schema_change='fail',
        indexes=[
            {'columns': ['date_day']},
            {'columns': ['workspace_id', 'platform', 'date_day']},
            {'columns': ['ad_performance_ad_id']},
        ],
        post_hook=["{{ record_incremental_watermark() }}", "{{ refresh_is_active() }}"],
    )
}}
-- depends_on: {{ ref('stg_ops__workspace_accounts') }}

{{ fct_fine_grain('int_ad_performance_ad_unioned', 'ad_performance_ad_id', ['ad_group_id', 'ad_id'], ['ad_group_name', 'ad_name']) }}
