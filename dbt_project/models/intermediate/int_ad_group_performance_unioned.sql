{#-
    Every platform's ad group-day rows (Meta ad sets, Google Ads ad groups, and
    the other platforms' equivalents) in the canonical columns, with the
    account and reporting currencies. Platforms add their staging model to the
    list; a platform that reports no finer grain is simply not in it.
-#}

{%- set platform_models = [
    'stg_meta__adset_insights',
    'stg_google_ads__ad_group_performance',
    'stg_tiktok__ad_group_report',
    'int_snapchat_ad_squad_performance_named',
    'int_linkedin_creative_performance_named',
    'stg_amazon_ads__sp_ad_groups',
] -%}

{{ union_fine_grain(platform_models, ['ad_group_id', 'ad_group_name']) }}
