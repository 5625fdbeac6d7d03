-- Campaign KPIs per day (account currency): spend, ROAS, CPA, CTR and their 7-day windows.
select
    date_day,
    platform,
    campaign_name,
    currency,
    spend,
    roas,
    cpa,
    ctr,
    roas_7d,
    cpa_7d
from marts.mart_campaign_kpis_daily
where workspace_id = {{workspace}}
    [[and platform = {{platform}}]]
    [[and campaign_id = {{campaign}}]]
    [[and date_day >= {{date_from}}]]
    [[and date_day <= {{date_to}}]]
order by date_day desc, spend desc
