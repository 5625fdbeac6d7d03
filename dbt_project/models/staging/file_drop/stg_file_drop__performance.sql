{#-
    Rows of CSV/JSON file drops, already mapped to the canonical fields by the
    loader (registry `file_drop.columns`), money as exact decimal strings. A
    later file restates the campaign-days it covers: the latest load wins.
    The currency comes from the registry.
-#}

{{ stage_performance(
    source('file_drop', 'performance'),
    platform='file_drop',
    entity_id='campaign_id',
    fields={
        'date_day': json_text('payload', 'date'),
        'campaign_id': json_text('payload', 'campaign_id'),
        'campaign_name': json_text('payload', 'campaign_name'),
        'currency': none,
    },
    metrics=payload_metrics(['impressions', 'clicks', 'spend', 'conversions', 'conversion_value']),
    tiebreak={'file_name': json_text('payload', 'file')},
) }}
