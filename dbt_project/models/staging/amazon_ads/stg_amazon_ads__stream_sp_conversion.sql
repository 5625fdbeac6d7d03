{#-
    Amazon Marketing Stream `sp-conversion` records of the registry's profiles, one row per
    distinct record. Conversions and sales are the attribution window of var
    `amazon_ads_stream_window` (7d by default, as the daily report's purchases7d and sales7d).
    Later records for a past hour are deltas (late-attributed conversions) that the hourly fact adds.
-#}

{%- set window = var('amazon_ads_stream_window') %}

{{ stream_records(source('amazon_stream', 'sp_conversion'), {
    'coalesce(attributed_conversions_' ~ window ~ ', 0)': 'conversions',
    'coalesce(attributed_sales_' ~ window ~ ', 0)': 'conversion_value',
    'coalesce(attributed_units_ordered_' ~ window ~ ', 0)': 'units_ordered',
}) }}
