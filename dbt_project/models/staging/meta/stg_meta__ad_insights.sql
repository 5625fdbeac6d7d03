{#-
    Meta ad-day Insights (`level=ad`) in the canonical columns plus the ad set
    (`ad_group_id` / `ad_group_name`) and the ad (`ad_id` / `ad_name`);
    conversions are the configured purchase action type only, as in
    `stg_meta__insights`.
-#}
{{ stg_meta_insights_at_level('ad_insights', [
    ('ad_group_id', 'adset_id', 'ad_group_name', 'adset_name'),
    ('ad_id', 'ad_id', 'ad_name', 'ad_name'),
]) }}
