{#-
    Amazon Marketing Stream `sp-traffic` records of the registry's profiles, one row per distinct
    record. Not combined here: records for the same hour and key are deltas that the hourly fact
    adds up (a click invalidation arrives as a record with negative values).
-#}

{{ stream_records(source('amazon_stream', 'sp_traffic'), {
    'coalesce(impressions, 0)': 'impressions',
    'coalesce(clicks, 0)': 'clicks',
    'coalesce(cost, 0)': 'spend',
}) }}
