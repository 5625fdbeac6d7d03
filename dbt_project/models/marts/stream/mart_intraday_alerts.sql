{#-
    Intraday alerts on Amazon Marketing Stream: for each profile's current day (its latest
    profile-local day in fct_ad_performance_hourly) through the last hour received, each
    campaign's day so far against the median of the same hours on its last
    `intraday_baseline_days` days (at least `intraday_min_baseline_days` of them):

    - intraday_spend_spike: spend more than `intraday_spend_spike` (50%) above the usual by this hour;
    - intraday_ctr_drop: CTR more than `intraday_ctr_drop` (20%) below the usual by this hour;
    - intraday_acos_above: ACOS so far above `intraday_acos_above` (30%);
    - intraday_roas_below: ROAS so far under `intraday_roas_below` (2.0).

    Spend rules need `intraday_min_spend` so far, the CTR rule `intraday_min_impressions`.
    The rows have the columns of mart_alerts (source `intraday`, the rule as signal), so the
    ads_stream DAG sends them through the same alert log, suppression and digests
    (ads_elt.ingestion.marketing_stream.run_intraday_alerts); alert_key is the same
    workspace|platform|campaign|signal|day, so an hour's rerun never repeats an alert.
-#}

{%- set alert_key_sql -%}
    evaluated.workspace_id || '|amazon_ads|' || evaluated.campaign_id || '|' || evaluated.signal
        || '|' || cast(evaluated.date_day as {{ dbt.type_string() }})
{%- endset %}

with

hourly as (

    -- what the current days and their baselines can reach (local days lie within a day of UTC's): the read
    -- follows the baseline window, not the months of hours the fact holds
    select * from {{ ref('fct_ad_performance_hourly') }}
    where hour_start_utc >= (
        select max(hour_start_utc) from {{ ref('fct_ad_performance_hourly') }}
    ) - interval '{{ var('intraday_baseline_days') | int + 2 }} days'

),

daily as (

    select * from {{ ref('fct_ad_performance_daily') }}
    where platform = 'amazon_ads'

),

stg_ops__planned_changes as (

    select * from {{ ref('stg_ops__planned_changes') }}

),

campaign_hours as (

    select
        workspace_id, account_id, campaign_id, date_day, hour_of_day,
        max(currency) as currency,
        sum(spend) as spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(conversion_value) as conversion_value

    from hourly
    group by workspace_id, account_id, campaign_id, date_day, hour_of_day

),

current_day as (

    -- each profile's day so far: its latest local day and the last hour received in it
    select distinct on (workspace_id, account_id)
        workspace_id, account_id, date_day, hour_of_day as through_hour

    from campaign_hours
    order by workspace_id, account_id, date_day desc, hour_of_day desc

),

so_far as (

    select
        h.workspace_id,
        h.account_id,
        h.campaign_id,
        h.date_day,
        c.date_day as current_day,
        c.through_hour,
        max(h.currency) as currency,
        sum(h.spend) as spend,
        sum(h.impressions) as impressions,
        sum(h.clicks) as clicks,
        sum(h.conversion_value) as conversion_value

    from campaign_hours as h
    inner join current_day as c
        on h.workspace_id = c.workspace_id and h.account_id = c.account_id
    where
        h.date_day between c.date_day - {{ var('intraday_baseline_days') }} and c.date_day
        and h.hour_of_day <= c.through_hour
    group by h.workspace_id, h.account_id, h.campaign_id, h.date_day, c.date_day, c.through_hour

),

baseline as (

    select
        workspace_id,
        account_id,
        campaign_id,
        count(*) as baseline_days,
        percentile_cont(0.5) within group (order by spend) as spend,
        percentile_cont(0.5) within group (order by 1.0 * clicks / nullif(impressions, 0)) as ctr

    from so_far
    where date_day < current_day
    group by workspace_id, account_id, campaign_id

),

today as (

    select
        so_far.*,
        1.0 * so_far.clicks / nullif(so_far.impressions, 0) as ctr,
        so_far.spend / nullif(so_far.conversion_value, 0) as acos,
        so_far.conversion_value / nullif(so_far.spend, 0) as roas,
        coalesce(baseline.baseline_days, 0) as baseline_days,
        baseline.spend as baseline_spend,
        baseline.ctr as baseline_ctr

    from so_far
    left join baseline
        on
            so_far.workspace_id = baseline.workspace_id
            and so_far.account_id = baseline.account_id
            and so_far.campaign_id = baseline.campaign_id
    where so_far.date_day = so_far.current_day

),

names as (

    select distinct on (workspace_id, account_id, campaign_id)
        workspace_id, account_id, campaign_id, campaign_name

    from daily
    order by workspace_id, account_id, campaign_id, date_day desc

),

signals as (

    select
        today.*,
        'intraday_spend_spike' as signal,
        'spend' as metric,
        'up' as direction,
        spend as value,
        baseline_spend as baseline,
        {{ var('intraday_spend_spike') }} as threshold,
        baseline_spend * (1 + {{ var('intraday_spend_spike') }}) as threshold_value,
        'Spend so far ' || {{ format_metric_value("'spend'", 'spend', 'currency') }}
        || ', usually ' || {{ format_metric_value("'spend'", 'baseline_spend', 'currency') }}
        || ' by this hour: ' || to_char(cast(100 * (spend / nullif(baseline_spend, 0) - 1) as numeric), 'FMS999,990') || '%'
        as finding

    from today
    where
        baseline_days >= {{ var('intraday_min_baseline_days') }}
        and spend >= {{ var('intraday_min_spend') }}
        and spend > baseline_spend * (1 + {{ var('intraday_spend_spike') }})

    union all

    select
        today.*,
        'intraday_ctr_drop',
        'ctr',
        'down',
        ctr,
        baseline_ctr,
        {{ var('intraday_ctr_drop') }},
        baseline_ctr * (1 - {{ var('intraday_ctr_drop') }}),
        'CTR so far ' || {{ format_metric_value("'ctr'", 'ctr', 'currency') }}
        || ', usually ' || {{ format_metric_value("'ctr'", 'baseline_ctr', 'currency') }}
        || ' by this hour: ' || to_char(cast(100 * (ctr / nullif(baseline_ctr, 0) - 1) as numeric), 'FMS999,990') || '%'

    from today
    where
        baseline_days >= {{ var('intraday_min_baseline_days') }}
        and impressions >= {{ var('intraday_min_impressions') }}
        and ctr < baseline_ctr * (1 - {{ var('intraday_ctr_drop') }})

    union all

    select
        today.*,
        'intraday_acos_above',
        'acos',
        'up',
        acos,
        cast(null as {{ dbt.type_float() }}),
        {{ var('intraday_acos_above') }},
        {{ var('intraday_acos_above') }},
        case
            when acos is null then 'No sales yet on ' || {{ format_metric_value("'spend'", 'spend', 'currency') }} || ' of spend so far'
            else 'ACOS so far ' || {{ format_metric_value("'acos'", 'acos', 'currency') }}
        end
        || ', above the ' || to_char(cast({{ var('intraday_acos_above') }} * 100 as numeric), 'FM990') || '% target'

    from today
    where
        spend >= {{ var('intraday_min_spend') }}
        and (acos is null or acos > {{ var('intraday_acos_above') }})

    union all

    select
        today.*,
        'intraday_roas_below',
        'roas',
        'down',
        roas,
        cast(null as {{ dbt.type_float() }}),
        {{ var('intraday_roas_below') }},
        {{ var('intraday_roas_below') }},
        'ROAS so far ' || {{ format_metric_value("'roas'", 'roas', 'currency') }}
        || ', under the ' || to_char(cast({{ var('intraday_roas_below') }} as numeric), 'FM990.0') || 'x floor'

    from today
    where
        spend >= {{ var('intraday_min_spend') }}
        and roas < {{ var('intraday_roas_below') }}

),

evaluated as (

    select
        signals.*,
        case
            when metric = 'spend' then value / nullif(threshold_value, 0)
            when metric = 'ctr' then threshold_value / nullif(value, 0)
            when metric = 'acos' then coalesce(value / threshold_value, 10)
            else threshold_value / nullif(value, 0)
        end as score

    from signals

),

explained as (

    -- a planned change explains an intraday alert as it does a daily one (a budget step explains
    -- spend and efficiency, not a CTR drop); the latest-starting change wins
    select distinct on (evaluated.workspace_id, evaluated.campaign_id, evaluated.signal)
        evaluated.workspace_id,
        evaluated.campaign_id,
        evaluated.signal,
        planned.change_id

    from evaluated
    inner join stg_ops__planned_changes as planned
        on
            evaluated.workspace_id = planned.workspace_id
            and (planned.platform is null or planned.platform = 'amazon_ads')
            and (planned.campaign_id is null or planned.campaign_id = evaluated.campaign_id)
            and evaluated.date_day between planned.start_date and planned.end_date + planned.settle_days
            and (planned.kind <> 'budget_step' or evaluated.signal <> 'intraday_ctr_drop')
    order by evaluated.workspace_id, evaluated.campaign_id, evaluated.signal, planned.start_date desc, planned.change_id

),

final as (

    select
        {{ dbt.hash(alert_key_sql) }} as alert_id,
        {{ alert_key_sql }} as alert_key,
        evaluated.date_day,
        cast(evaluated.through_hour as integer) as through_hour,
        evaluated.workspace_id,
        'amazon_ads' as platform,
        evaluated.account_id,
        evaluated.campaign_id,
        coalesce(names.campaign_name, evaluated.campaign_id) as campaign_name,
        evaluated.currency,
        'campaign' as entity_type,
        'intraday' as source,
        evaluated.signal,
        evaluated.signal as rule_id,
        evaluated.metric,
        evaluated.direction,
        cast(evaluated.value as {{ dbt.type_float() }}) as value,
        cast(evaluated.baseline as {{ dbt.type_float() }}) as baseline,
        cast(null as {{ dbt.type_float() }}) as baseline_mad,
        cast(null as {{ dbt.type_float() }}) as baseline_low,
        cast(null as {{ dbt.type_float() }}) as baseline_high,
        cast(null as {{ dbt.type_float() }}) as robust_z,
        cast(evaluated.threshold as {{ dbt.type_float() }}) as threshold,
        cast(evaluated.threshold_value as {{ dbt.type_float() }}) as threshold_value,
        'same_hours_median' as scoring_method,
        cast(evaluated.baseline_days as integer) as history_days,
        case when evaluated.score >= 1.5 then 'critical' else 'warning' end as severity,
        cast(evaluated.score as {{ dbt.type_float() }}) as score,
        'Intraday (through ' || lpad(cast(evaluated.through_hour as {{ dbt.type_string() }}), 2, '0') || ':59 profile time): '
        || evaluated.finding as explanation,
        explained.change_id as planned_change_id

    from evaluated
    left join names
        on
            evaluated.workspace_id = names.workspace_id
            and evaluated.account_id = names.account_id
            and evaluated.campaign_id = names.campaign_id
    left join explained
        on
            evaluated.workspace_id = explained.workspace_id
            and evaluated.campaign_id = explained.campaign_id
            and evaluated.signal = explained.signal

)

select * from final
