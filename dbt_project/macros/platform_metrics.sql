{#-
    The canonical metric columns parsed from one platform's payload, shared by
    that platform's reports at every grain (campaign, ad group, creative), so
    the grains parse the same way and reconcile. Each platform's rules are in
    the staging model that calls it; conversions and value follow the vars in
    dbt_project.yml.
-#}

{#- TikTok: metrics are strings, "-" when missing (0 here). -#}
{% macro tiktok_canonical_metrics() -%}
        coalesce(cast({{ numeric_or_null(json_text('payload', 'metrics', 'impressions')) }} as bigint), 0) as impressions,
        coalesce(cast({{ numeric_or_null(json_text('payload', 'metrics', 'clicks')) }} as bigint), 0) as clicks,
        coalesce({{ numeric_or_null(json_text('payload', 'metrics', 'spend')) }}, 0) as spend,
        coalesce({{ numeric_or_null(json_text('payload', 'metrics', var('tiktok_conversions_metric'))) }}, 0) as conversions,
        coalesce({{ numeric_or_null(json_text('payload', 'metrics', var('tiktok_conversion_value_metric'))) }}, 0) as conversion_value
{%- endmacro %}

{#- Snapchat: stats are numbers; spend and purchase value micro-currency; a stat not sent is 0. -#}
{% macro snapchat_canonical_metrics() -%}
        coalesce(cast({{ json_text('payload', 'stats', 'impressions') }} as bigint), 0) as impressions,
        coalesce(cast({{ json_text('payload', 'stats', 'swipes') }} as bigint), 0) as clicks,
        coalesce({{ micros_to_units(json_text('payload', 'stats', 'spend')) }}, 0) as spend,
        coalesce(cast({{ json_text('payload', 'stats', var('snapchat_conversions_field')) }} as numeric), 0) as conversions,
        coalesce({{ micros_to_units(json_text('payload', 'stats', var('snapchat_conversion_value_field'))) }}, 0) as conversion_value
{%- endmacro %}

{#- LinkedIn adAnalytics: counts are integers; cost and value long-precision strings (exact numerics). -#}
{% macro linkedin_canonical_metrics() -%}
        coalesce(cast({{ json_text('payload', 'impressions') }} as bigint), 0) as impressions,
        coalesce(cast({{ json_text('payload', 'clicks') }} as bigint), 0) as clicks,
        coalesce(cast({{ json_text('payload', 'costInLocalCurrency') }} as numeric), 0) as spend,
        coalesce(cast({{ json_text('payload', var('linkedin_conversions_field')) }} as numeric), 0) as conversions,
        coalesce(cast({{ json_text('payload', var('linkedin_conversion_value_field')) }} as numeric), 0) as conversion_value
{%- endmacro %}

{#- The day of a LinkedIn adAnalytics element: dateRange.start. -#}
{% macro linkedin_date_day() -%}
        make_date(
            cast({{ json_text('payload', 'dateRange', 'start', 'year') }} as integer),
            cast({{ json_text('payload', 'dateRange', 'start', 'month') }} as integer),
            cast({{ json_text('payload', 'dateRange', 'start', 'day') }} as integer)
        )
{%- endmacro %}

{#- Amazon Ads report rows: numbers as JSON numbers; conversions and value per the attribution-window vars. -#}
{% macro amazon_ads_canonical_metrics() -%}
        coalesce(cast({{ json_text('payload', 'impressions') }} as bigint), 0) as impressions,
        coalesce(cast({{ json_text('payload', 'clicks') }} as bigint), 0) as clicks,
        coalesce(cast({{ json_text('payload', 'cost') }} as numeric), 0) as spend,
        coalesce(cast({{ json_text('payload', var('amazon_ads_conversions_column')) }} as numeric), 0) as conversions,
        coalesce(cast({{ json_text('payload', var('amazon_ads_conversion_value_column')) }} as numeric), 0) as conversion_value
{%- endmacro %}
