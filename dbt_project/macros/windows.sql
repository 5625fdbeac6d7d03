{#-
    A calendar-based window over `days` days ending `offset_days` days before
    the current row's date (offset 0: ending on the current row's date). The
    frame is a date range, not a row count, so a day without a row never
    stretches the window.

        sum(spend) {{ trailing_days_window(['campaign_id'], 'date_day', 7) }}
            -> the current day and the 6 days before it
        sum(spend) {{ trailing_days_window(['campaign_id'], 'date_day', 7, 7) }}
            -> the 7 days before those
-#}
{% macro trailing_days_window(partition_by, order_by, days, offset_days=0) -%}
    {{ return(adapter.dispatch('trailing_days_window', 'ads_elt')(partition_by, order_by, days, offset_days)) }}
{%- endmacro %}

{% macro postgres__trailing_days_window(partition_by, order_by, days, offset_days) -%}
    {%- set frame_start = days - 1 + offset_days -%}
    {%- set frame_end = 'current row' if offset_days == 0 else "interval '" ~ offset_days ~ " days' preceding" -%}
    over (partition by {{ partition_by | join(', ') }} order by {{ order_by }} range between interval '{{ frame_start }} days' preceding and {{ frame_end }})
{%- endmacro %}
