-- Blended ROAS (MER): all store revenue against all ad spend, with the platforms' own ROAS beside it.
select
    date_day,
    spend,
    store_revenue,
    blended_roas,
    blended_roas_7d,
    platform_roas
from marts.mart_workspace_kpis_daily
where workspace_id = {{workspace}}
    and platform = 'all'
    [[and date_day >= {{date_from}}]]
    [[and date_day <= {{date_to}}]]
order by date_day
