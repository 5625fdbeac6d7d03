{#-
    Every platform's ad-day rows (Meta ads, and the other platforms' ad-level
    reports) in the canonical columns, with the account and reporting
    currencies. Platforms add their staging model to the list.
-#}

{%- set platform_models = [
    'stg_meta__ad_insights',
    'int_linkedin_creative_performance_named',
] -%}

{{ union_fine_grain(platform_models, ['ad_group_id', 'ad_group_name', 'ad_id', 'ad_name']) }}
