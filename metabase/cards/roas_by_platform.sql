-- ROAS by platform: the day's and the trailing 7 days' (ratios of sums, from mart_platform_kpis_daily).
select
    date_day,
    platform,
    roas,
    roas_7d
from marts.mart_platform_kpis_daily
where workspace_id = {{workspace}}
    [[and platform = {{platform}}]]
    [[and date_day >= {{date_from}}]]
    [[and date_day <= {{date_to}}]]
order by date_day, platform
