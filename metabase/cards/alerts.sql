-- Alerts (anomalies and rules), what they say and where they link.
select
    date_day,
    severity,
    platform,
    campaign_name,
    signal,
    explanation,
    dashboard_url
from marts.mart_alerts
where workspace_id = {{workspace}}
    [[and platform = {{platform}}]]
    [[and campaign_id = {{campaign}}]]
    [[and date_day >= {{date_from}}]]
    [[and date_day <= {{date_to}}]]
order by date_day desc, severity, platform
