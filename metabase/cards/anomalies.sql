-- Anomalies the detector flagged: value against its baseline, robust z.
select
    date_day,
    platform,
    campaign_name,
    metric,
    direction,
    value,
    baseline_median,
    robust_z
from marts.mart_anomalies
where workspace_id = {{workspace}}
    and is_anomaly
    [[and platform = {{platform}}]]
    [[and campaign_id = {{campaign}}]]
    [[and date_day >= {{date_from}}]]
    [[and date_day <= {{date_to}}]]
order by date_day desc, abs(robust_z) desc
