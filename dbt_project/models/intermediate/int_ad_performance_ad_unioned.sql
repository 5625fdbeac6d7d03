{#-
    Every platform's ad-day rows (Meta ads, and the other platforms' ad-level
    reports) in the canonical columns, with the account and reporting
    currencies. The models are the `ad_day` ones of var `ad_performance_models`.
-#}

{%- set platform_models = ad_performance_models('ad_day') -%}

{{ union_fine_grain(platform_models, ['ad_group_id', 'ad_group_name', 'ad_id', 'ad_name']) }}
