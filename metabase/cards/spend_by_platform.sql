-- Spend by platform and day (reporting currency): mart_platform_kpis_daily.
select
    date_day,
    platform,
    spend
from marts.mart_platform_kpis_daily
where workspace_id = {{workspace}}
    [[and platform = {{platform}}]]
    [[and date_day >= {{date_from}}]]
    [[and date_day <= {{date_to}}]]
order by date_day, platform
