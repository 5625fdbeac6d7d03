{#-
    Meta ad set-day Insights (`level=adset`) in the canonical columns plus the
    ad set as `ad_group_id` / `ad_group_name`; conversions are the configured
    purchase action type only, as in `stg_meta__insights`.
-#}
{{ stg_meta_insights_at_level('adset_insights', [
    ('ad_group_id', 'adset_id', 'ad_group_name', 'adset_name'),
]) }}
