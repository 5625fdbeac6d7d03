{#-
    Helpers for the alerting marts: human formatting of metric values in
    SQL (for the one-line explanations) and the dashboard deep link.
-#}

{#- A metric value as a marketer reads it: money with its currency, a percentage or a multiple. `metric` is a SQL expression. -#}
{% macro format_metric_value(metric, value, currency) -%}
    {{ return(adapter.dispatch('format_metric_value', 'ads_elt')(metric, value, currency)) }}
{%- endmacro %}

{% macro postgres__format_metric_value(metric, value, currency) -%}
    (case
        when {{ value }} is null then 'n/a'
        when {{ metric }} in ('spend', 'cpa', 'budget')
            then to_char(cast({{ value }} as numeric), 'FM999,999,999,990.00') || ' ' || coalesce({{ currency }}, '')
        when {{ metric }} in ('ctr', 'cvr', 'acos')
            then to_char(cast({{ value }} as numeric) * 100, 'FM999,990.00') || '%'
        when {{ metric }} = 'roas'
            then to_char(cast({{ value }} as numeric), 'FM999,990.00') || 'x'
        else to_char(cast({{ value }} as numeric), 'FM999,999,990.00')
    end)
{%- endmacro %}

{#- The display name of a metric (SQL expression in, text out). -#}
{% macro metric_label(metric) -%}
    (case {{ metric }}
        when 'spend' then 'Spend'
        when 'ctr' then 'CTR'
        when 'cvr' then 'CVR'
        when 'cpa' then 'CPA'
        when 'roas' then 'ROAS'
        when 'acos' then 'ACOS'
        else upper({{ metric }})
    end)
{%- endmacro %}

{#- Percent-encode the characters that would break a query-string value. -#}
{% macro url_encode(expression) -%}
    replace(replace(replace(replace(replace(replace(replace(replace(
        {{ expression }},
        '%', '%25'), ' ', '%20'), '&', '%26'), '#', '%23'), '/', '%2F'), '?', '%3F'), '=', '%3D'), '+', '%2B')
{%- endmacro %}

{#- Fill a dashboard URL template ({workspace_id}, {platform}, {campaign_id}, {date}); null when there is none. -#}
{% macro dashboard_link(template, workspace_id, platform, campaign_id, day) -%}
    nullif(
        replace(replace(replace(replace(
            coalesce({{ template }}, ''),
            '{workspace_id}', {{ url_encode(workspace_id) }}),
            '{platform}', {{ url_encode(platform) }}),
            '{campaign_id}', {{ url_encode(campaign_id) }}),
            '{date}', cast({{ day }} as {{ dbt.type_string() }})),
        ''
    )
{%- endmacro %}

{#- A share as a whole percentage: 0.7 -> '70%'. -#}
{% macro format_share(expression) -%}
    (to_char(cast({{ expression }} as numeric) * 100, 'FM999,999,990') || '%')
{%- endmacro %}

{#- Calendar parts of a date as integers: ISO day of week (1 = Monday), day of month, days in its month. -#}
{% macro day_of_week(expression) -%}
    {{ return(adapter.dispatch('day_of_week', 'ads_elt')(expression)) }}
{%- endmacro %}

{% macro postgres__day_of_week(expression) -%}
    cast(extract(isodow from {{ expression }}) as integer)
{%- endmacro %}

{% macro day_of_month(expression) -%}
    {{ return(adapter.dispatch('day_of_month', 'ads_elt')(expression)) }}
{%- endmacro %}

{% macro postgres__day_of_month(expression) -%}
    cast(extract(day from {{ expression }}) as integer)
{%- endmacro %}

{% macro days_in_month(expression) -%}
    {{ return(adapter.dispatch('days_in_month', 'ads_elt')(expression)) }}
{%- endmacro %}

{% macro postgres__days_in_month(expression) -%}
    cast(extract(day from date_trunc('month', {{ expression }}) + interval '1 month - 1 day') as integer)
{%- endmacro %}

{#- A count that may be fractional (Google Ads conversions): 5.6 -> '5.6', 6 -> '6', 1234.5 -> '1,234.5'. -#}
{% macro format_count(expression) -%}
    rtrim(rtrim(to_char(cast({{ expression }} as numeric), 'FM999,999,999,990.99'), '0'), '.')
{%- endmacro %}
