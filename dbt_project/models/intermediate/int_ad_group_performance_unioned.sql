{#-
    Every platform's ad group-day rows (Meta ad sets, Google Ads ad groups, and
    the other platforms' equivalents) in the canonical columns, with the
    account and reporting currencies. The models are the `ad_group_day` ones of
    var `ad_performance_models`; a platform that reports no finer grain is
    simply not in it.
-#}

{%- set platform_models = ad_performance_models('ad_group_day') -%}

{{ union_fine_grain(platform_models, ['ad_group_id', 'ad_group_name']) }}
