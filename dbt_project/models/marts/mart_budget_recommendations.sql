{#-
    Budget shifts per workspace and day: from campaigns whose recent return
    on the money spent is low to those where it is high. One row per
    campaign and day (the latest day is today's advice), amounts per day.

    Return. A campaign's marginal ROAS is estimated by its ROAS over the
    trailing 7 days (the most recent money), confirmed by the trailing 28
    days: both must sit on the same side of the workspace's ROAS over the
    same windows (of the eligible campaigns, spend-weighted), so one lucky
    or unlucky week does not move money. Donors: 7-day ROAS below the
    workspace's by more than `min_roas_gap` (a share) and 28-day ROAS below
    the workspace's. Recipients: the mirror image.

    Guardrails (registry `budget:`, else the vars; money in the reporting
    currency):
      - eligibility: 28-day spend >= min_spend_28d and 28-day conversions
        >= min_conversions_28d; others hold (too little data to judge);
      - a campaign's change is at most max_shift_share of its daily budget;
      - a donor's budget never goes below min_daily_budget;
      - the shift is budget-neutral: what donors give up recipients receive
        (the smaller of what donors can release and recipients can absorb,
        split in proportion to each one's capacity).

    Daily budget: the registry's monthly campaign budget / days in the
    month, else the campaign's 7-day run rate (spend_7d / 7).
-#}

with

mart_campaign_kpis_daily as (

    select * from {{ ref('mart_campaign_kpis_daily') }}
    where is_active is not false  -- an account removed from the registry gets no recommendation

),

fct_ad_performance_daily as (

    select * from {{ ref('fct_ad_performance_daily') }}
    where is_active is not false  -- an account removed from the registry gets no recommendation

),

int_workspace_settings_pivoted as (

    select * from {{ ref('int_workspace_settings_pivoted') }}

),

stg_ops__campaign_budgets as (

    select * from {{ ref('stg_ops__campaign_budgets') }}

),

campaigns as (

    select
        kpis.date_day,
        kpis.workspace_id,
        kpis.platform,
        kpis.account_id,
        kpis.campaign_id,
        kpis.campaign_name,
        kpis.currency,
        kpis.reporting_currency,
        fct.fx_rate_to_reporting,
        kpis.spend_7d,
        kpis.conversion_value_7d,
        kpis.roas_7d,
        kpis.spend_28d,
        kpis.conversions_28d,
        kpis.conversion_value_28d,
        kpis.roas_28d,
        case
            when budgets.monthly_budget is not null
                then budgets.monthly_budget / cast({{ days_in_month('kpis.date_day') }} as {{ dbt.type_float() }})
            else kpis.spend_7d / 7.0
        end as daily_budget,
        case when budgets.monthly_budget is not null then 'registry' else 'run_rate_7d' end as budget_source,
        settings.budget_max_shift_share as max_shift_share,
        settings.budget_min_daily_budget as min_daily_budget,
        settings.budget_min_spend_28d as min_spend_28d,
        settings.budget_min_conversions_28d as min_conversions_28d,
        settings.budget_min_roas_gap as min_roas_gap

    from mart_campaign_kpis_daily as kpis
    inner join fct_ad_performance_daily as fct
        on
            kpis.date_day = fct.date_day
            and kpis.workspace_id = fct.workspace_id
            and kpis.platform = fct.platform
            and kpis.account_id = fct.account_id
            and kpis.campaign_id = fct.campaign_id
    inner join int_workspace_settings_pivoted as settings
        on kpis.workspace_id = settings.workspace_id
    left join stg_ops__campaign_budgets as budgets
        on
            kpis.workspace_id = budgets.workspace_id
            and kpis.platform = budgets.platform
            and kpis.campaign_id = budgets.campaign_id

),

eligibility as (

    select
        *,
        daily_budget * fx_rate_to_reporting as daily_budget_reporting,
        spend_28d * fx_rate_to_reporting as spend_28d_reporting,
        coalesce(
            spend_28d * fx_rate_to_reporting >= min_spend_28d
            and conversions_28d >= min_conversions_28d
            and spend_7d > 0
            and roas_7d is not null
            and roas_28d is not null,
            false
        ) as is_eligible

    from campaigns

),

workspace_returns as (

    select
        *,
        {{ safe_divide(
            'sum(case when is_eligible then conversion_value_7d * fx_rate_to_reporting end) over (partition by workspace_id, date_day)',
            'sum(case when is_eligible then spend_7d * fx_rate_to_reporting end) over (partition by workspace_id, date_day)'
        ) }} as workspace_roas_7d,
        {{ safe_divide(
            'sum(case when is_eligible then conversion_value_28d * fx_rate_to_reporting end) over (partition by workspace_id, date_day)',
            'sum(case when is_eligible then spend_28d * fx_rate_to_reporting end) over (partition by workspace_id, date_day)'
        ) }} as workspace_roas_28d

    from eligibility

),

roles as (

    select
        *,
        case
            when not is_eligible then 'ineligible'
            when roas_7d < workspace_roas_7d * (1 - min_roas_gap) and roas_28d < workspace_roas_28d then 'donor'
            when roas_7d > workspace_roas_7d * (1 + min_roas_gap) and roas_28d > workspace_roas_28d then 'recipient'
            else 'neutral'
        end as role

    from workspace_returns

),

capacities as (

    select
        *,
        case
            when role = 'donor'
                then greatest(least(max_shift_share * daily_budget_reporting, daily_budget_reporting - min_daily_budget), 0)
            when role = 'recipient'
                then max_shift_share * daily_budget_reporting
            else 0
        end as capacity_reporting

    from roles

),

pools as (

    select
        *,
        sum(case when role = 'donor' then capacity_reporting else 0 end) over (partition by workspace_id, date_day) as donor_capacity,
        sum(case when role = 'recipient' then capacity_reporting else 0 end) over (partition by workspace_id, date_day) as recipient_capacity

    from capacities

),

shifts as (

    select
        *,
        least(donor_capacity, recipient_capacity) as shift_pool,
        case
            when role = 'donor' and donor_capacity > 0
                then -capacity_reporting * least(donor_capacity, recipient_capacity) / donor_capacity
            when role = 'recipient' and recipient_capacity > 0
                then capacity_reporting * least(donor_capacity, recipient_capacity) / recipient_capacity
            else 0
        end as change_reporting

    from pools

),

final as (

    select
        {{ surrogate_key(['date_day', 'workspace_id', 'platform', 'account_id', 'campaign_id']) }} as recommendation_id,
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        currency,
        reporting_currency,
        role,
        case
            when change_reporting < 0 then 'decrease'
            when change_reporting > 0 then 'increase'
            else 'hold'
        end as recommendation,
        is_eligible,
        budget_source,
        cast(daily_budget as {{ dbt.type_float() }}) as current_daily_budget,
        cast(daily_budget + change_reporting / fx_rate_to_reporting as {{ dbt.type_float() }}) as recommended_daily_budget,
        cast(change_reporting / fx_rate_to_reporting as {{ dbt.type_float() }}) as change_amount,
        cast(daily_budget_reporting as {{ dbt.type_float() }}) as current_daily_budget_reporting,
        cast(daily_budget_reporting + change_reporting as {{ dbt.type_float() }}) as recommended_daily_budget_reporting,
        cast(change_reporting as {{ dbt.type_float() }}) as change_amount_reporting,
        cast({{ safe_divide('change_reporting', 'daily_budget_reporting') }} as {{ dbt.type_float() }}) as change_share,
        cast(roas_7d as {{ dbt.type_float() }}) as roas_7d,
        cast(roas_28d as {{ dbt.type_float() }}) as roas_28d,
        cast(workspace_roas_7d as {{ dbt.type_float() }}) as workspace_roas_7d,
        cast(workspace_roas_28d as {{ dbt.type_float() }}) as workspace_roas_28d,
        cast(spend_28d_reporting as {{ dbt.type_float() }}) as spend_28d_reporting,
        conversions_28d,
        max_shift_share,
        min_daily_budget,
        min_spend_28d,
        min_conversions_28d,
        min_roas_gap,
        case
            when not is_eligible
                then 'Hold: not enough data to judge (28-day spend ' || {{ format_metric_value("'spend'", 'spend_28d_reporting', 'reporting_currency') }}
                    || ', minimum ' || {{ format_metric_value("'spend'", 'min_spend_28d', 'reporting_currency') }}
                    || '; 28-day conversions ' || {{ format_count('conversions_28d') }}
                    || ', minimum ' || {{ format_count('min_conversions_28d') }} || ')'
            when change_reporting < 0
                then 'Decrease by ' || {{ format_metric_value("'spend'", '-change_reporting', 'reporting_currency') }} || '/day ('
                    || {{ format_share('-change_reporting / daily_budget_reporting') }} || ' of ' || {{ format_metric_value("'spend'", 'daily_budget_reporting', 'reporting_currency') }}
                    || '): ROAS ' || {{ format_metric_value("'roas'", 'roas_7d', 'currency') }} || ' (7d) and ' || {{ format_metric_value("'roas'", 'roas_28d', 'currency') }}
                    || ' (28d) vs the workspace''s ' || {{ format_metric_value("'roas'", 'workspace_roas_7d', 'currency') }} || ' and ' || {{ format_metric_value("'roas'", 'workspace_roas_28d', 'currency') }}
            when change_reporting > 0
                then 'Increase by ' || {{ format_metric_value("'spend'", 'change_reporting', 'reporting_currency') }} || '/day ('
                    || {{ format_share('change_reporting / daily_budget_reporting') }} || ' of ' || {{ format_metric_value("'spend'", 'daily_budget_reporting', 'reporting_currency') }}
                    || '): ROAS ' || {{ format_metric_value("'roas'", 'roas_7d', 'currency') }} || ' (7d) and ' || {{ format_metric_value("'roas'", 'roas_28d', 'currency') }}
                    || ' (28d) vs the workspace''s ' || {{ format_metric_value("'roas'", 'workspace_roas_7d', 'currency') }} || ' and ' || {{ format_metric_value("'roas'", 'workspace_roas_28d', 'currency') }}
            when role = 'donor'
                then 'Hold: low ROAS ' || {{ format_metric_value("'roas'", 'roas_7d', 'currency') }} || ' (7d) but no higher-return campaign to move budget to'
                    || case when capacity_reporting = 0 then ' or already at the minimum daily budget ' || {{ format_metric_value("'spend'", 'min_daily_budget', 'reporting_currency') }} else '' end
            when role = 'recipient'
                then 'Hold: high ROAS ' || {{ format_metric_value("'roas'", 'roas_7d', 'currency') }} || ' (7d) but no lower-return campaign to take budget from'
            else 'Hold: ROAS ' || {{ format_metric_value("'roas'", 'roas_7d', 'currency') }} || ' (7d) and ' || {{ format_metric_value("'roas'", 'roas_28d', 'currency') }}
                || ' (28d) vs the workspace''s ' || {{ format_metric_value("'roas'", 'workspace_roas_7d', 'currency') }} || ' and ' || {{ format_metric_value("'roas'", 'workspace_roas_28d', 'currency') }}
                || ': not consistently more than ' || {{ format_share('min_roas_gap') }} || ' away'
        end as reason

    from shifts

)

select * from final
