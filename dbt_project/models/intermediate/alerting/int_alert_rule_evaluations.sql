{#-
    Every enabled rule of the `alert_rules` seed (with the workspace's
    overrides) evaluated on every campaign-day, and budget pacing also on
    every workspace-day: the value, the baseline it is compared with, the
    level that triggers it (`threshold_value`), whether it fired, how far
    beyond its threshold it is (`score`, 1 = at the threshold; used to tell
    a worsening alert from a repeat) and a one-line explanation with the
    numbers.

        roas_below_baseline        roas < threshold x roas of the 28 days before, spend >= min_spend,
                                   28-day daily conversions >= min_conversions, and conversion value at
                                   least secondary_threshold chance spreads under what the day's clicks
                                   would have brought at the 28-day value per click (spread: average order
                                   value x sqrt(1.12 x expected conversions), Poisson counts of orders
                                   whose value varies by a third, widened by the campaign's own dispersion
                                   over the 28 days before), one spread more for a single day than
                                   for the day and the day before together (a collapse too small to tell
                                   from chance in one day is told by the second)
        conversion_value_sliding   conversion value over the day and the two before < threshold x what
                                   their clicks would have brought at the day's 28-day value per click, and
                                   secondary_threshold chance spreads under it (widened as for
                                   roas_below_baseline), the day itself under, no day of the three under
                                   half (a collapse is roas_below_baseline's or conversions_stopped's),
                                   spend >= min_spend, 28-day daily conversions >= min_conversions: a slide
                                   that hides in each day's chance shows in three days together
        spend_up_conversions_down  spend > threshold x its 28-day daily average and
                                   conversions < secondary_threshold x theirs, spend >= min_spend, and
                                   conversions `rule_chance_spreads` Poisson spreads under what the day's
                                   clicks would have brought at the 28-day conversion rate (on a campaign
                                   with a few conversions a day, half of them is chance)
        ctr_below_baseline         ctr < threshold x ctr of the 28 days before, impressions >= min_impressions
        spend_spike_day_over_day   spend > threshold x the previous day's spend, spend >= min_spend, and
                                   spend > secondary_threshold x its 28-day daily average (a day back at
                                   its usual level after a dip is no spike)
        acos_above                 acos > threshold (or no conversion value at all), spend >= min_spend,
                                   28-day daily conversions >= min_conversions
        roas_below_floor           roas < threshold, spend >= min_spend
        conversions_stopped        no conversions while the day's clicks at the 28-day conversion rate would
                                   have brought >= threshold (or the day and the one or two before, all
                                   without any, together >= threshold), spend >= min_spend: the chance of
                                   a false zero run is at most e^-threshold
        stopped_reporting          no row on a day its account reported, after spend on >= threshold of the
                                   7 days before with a daily average >= min_spend
        budget_pacing              month-to-date spend / days elapsed x days in month > threshold x monthly budget,
                                   from day `rule_pacing_min_days` of the month (one day's spend projects no month)

    Rules against the 28 days before need `rule_min_baseline_days` of them.
    A rule is evaluated only on the platforms it applies to
    (`int_alert_rules_configured.platforms`: ACOS on Amazon Ads unless the
    workspace sets a target).

    Incremental, as int_alert_rule_inputs and mart_anomalies: a daily run
    evaluates only the days from `incremental_changed_from()` on (the fact
    read from 7 days before them for the gap days and from the first of
    their month for the workspace's pacing), so its cost follows the new
    data, not the history, and every row equals a full rebuild's. A rule's
    settings (the seed or a workspace's `rule.*` overrides) apply to the
    rebuilt days, which include every day an alert can still be sent for;
    older days keep the verdict of the settings they were evaluated with
    (the history of what was alerted) until `dbt build --full-refresh`.
-#}
{{
    config(
        materialized='incremental',
        incremental_strategy='replace_date_range',
        unique_key=['date_day', 'workspace_id', 'platform', 'campaign_id', 'rule_id'],
        on_schema_change='fail',
        indexes=[{'columns': ['date_day']}],
        post_hook="{{ record_incremental_watermark() }}",
    )
}}
{%- if is_incremental() -%}
    {%- set changed_from = incremental_changed_from() -%}
    {%- set since = "cast('" ~ changed_from ~ "' as date)" -%}
{%- endif %}
{%- set min_baseline_days = var('rule_min_baseline_days') -%}
{%- set chance_spreads = var('rule_chance_spreads') -%}
{#- conversion_value_sliding: a day under this share of its expected value makes a collapse, not a slide. -#}
{%- set slide_floor = 0.5 -%}
{%- set score_cap = 1000 -%}
{#- The conversion value's chance spread (value_chance_spread) at the campaign's order value and dispersion. -#}
{%- set order_value = 'inputs.average_order_value_prior_28d' -%}
{%- set value_dispersion = 'coalesce(inputs.value_dispersion_prior_28d, 1)' -%}
{%- set rules = {
    'roas_below_baseline': {
        'value': 'inputs.roas',
        'baseline': 'inputs.roas_prior_28d',
        'threshold_value': 'rules.threshold * inputs.roas_prior_28d',
        'condition': 'inputs.spend >= rules.min_spend and inputs.prior_days >= ' ~ min_baseline_days ~ ' and inputs.conversions_daily_avg_prior_28d >= rules.min_conversions and ((inputs.roas < rules.threshold * inputs.roas_prior_28d and inputs.conversion_value <= inputs.conversion_value_expected - (rules.secondary_threshold + 1) * ' ~ value_chance_spread(order_value, 'inputs.conversions_expected', value_dispersion) ~ ') or ((inputs.conversion_value + inputs.conversion_value_previous_day) < rules.threshold * inputs.roas_prior_28d * (inputs.spend + inputs.spend_previous_day) and inputs.conversion_value + inputs.conversion_value_previous_day <= inputs.conversion_value_expected + inputs.conversion_value_expected_previous_day - rules.secondary_threshold * ' ~ value_chance_spread(order_value, 'inputs.conversions_expected + inputs.conversions_expected_previous_day', value_dispersion) ~ '))',
        'score': 'rules.threshold * inputs.roas_prior_28d / nullif(inputs.roas, 0)',
        'explanation': "'ROAS ' || " ~ format_metric_value("'roas'", 'inputs.roas', 'inputs.currency') ~ " || ' is under ' || " ~ format_share('rules.threshold') ~ " || ' of its 28-day level ' || " ~ format_metric_value("'roas'", 'inputs.roas_prior_28d', 'inputs.currency') ~ " || ' (spend ' || " ~ format_metric_value("'spend'", 'inputs.spend', 'inputs.currency') ~ " || ')'",
    },
    'conversion_value_sliding': {
        'value': 'inputs.conversion_value_last_3d',
        'baseline': 'inputs.conversion_value_expected_last_3d',
        'threshold_value': 'rules.threshold * inputs.conversion_value_expected_last_3d',
        'condition': 'inputs.spend >= rules.min_spend and inputs.prior_days >= ' ~ min_baseline_days ~ ' and inputs.conversions_daily_avg_prior_28d >= rules.min_conversions and inputs.days_last_3d = 3 and inputs.conversion_value < inputs.conversion_value_expected and inputs.conversion_value_share_min_last_3d >= ' ~ slide_floor ~ ' and inputs.conversion_value_last_3d < rules.threshold * inputs.conversion_value_expected_last_3d and inputs.conversion_value_last_3d <= inputs.conversion_value_expected_last_3d - rules.secondary_threshold * ' ~ value_chance_spread(order_value, 'inputs.conversions_expected_last_3d', value_dispersion),
        'score': '(inputs.conversion_value_expected_last_3d - inputs.conversion_value_last_3d) / nullif(' ~ value_chance_spread(order_value, 'inputs.conversions_expected_last_3d', value_dispersion) ~ ', 0) / nullif(rules.secondary_threshold, 0)',
        'explanation': "'conversion value ' || " ~ format_metric_value("'spend'", 'inputs.conversion_value_last_3d', 'inputs.currency') ~ " || ' over the last 3 days is ' || " ~ format_share('inputs.conversion_value_last_3d / nullif(inputs.conversion_value_expected_last_3d, 0)') ~ " || ' of what their clicks would have brought at the 28-day rate (' || " ~ format_metric_value("'spend'", 'inputs.conversion_value_expected_last_3d', 'inputs.currency') ~ " || '), beyond chance'",
    },
    'spend_up_conversions_down': {
        'value': 'inputs.spend',
        'baseline': 'inputs.spend_daily_avg_prior_28d',
        'threshold_value': 'rules.threshold * inputs.spend_daily_avg_prior_28d',
        'condition': 'inputs.spend >= rules.min_spend and inputs.prior_days >= ' ~ min_baseline_days ~ ' and inputs.spend > rules.threshold * inputs.spend_daily_avg_prior_28d and inputs.conversions < rules.secondary_threshold * inputs.conversions_daily_avg_prior_28d and inputs.conversions <= inputs.conversions_expected - ' ~ chance_spreads ~ ' * sqrt(inputs.conversions_expected)',
        'score': 'inputs.spend / nullif(rules.threshold * inputs.spend_daily_avg_prior_28d, 0)',
        'explanation': "'Spend ' || " ~ format_metric_value("'spend'", 'inputs.spend', 'inputs.currency') ~ " || ' is ' || " ~ format_share('inputs.spend / nullif(inputs.spend_daily_avg_prior_28d, 0)') ~ " || ' of its 28-day daily average ' || " ~ format_metric_value("'spend'", 'inputs.spend_daily_avg_prior_28d', 'inputs.currency') ~ " || ' while conversions ' || " ~ format_count('inputs.conversions') ~ " || ' are under ' || " ~ format_share('rules.secondary_threshold') ~ " || ' of their average ' || " ~ format_count('inputs.conversions_daily_avg_prior_28d'),
    },
    'ctr_below_baseline': {
        'value': 'inputs.ctr',
        'baseline': 'inputs.ctr_prior_28d',
        'threshold_value': 'rules.threshold * inputs.ctr_prior_28d',
        'condition': 'inputs.impressions >= rules.min_impressions and inputs.prior_days >= ' ~ min_baseline_days ~ ' and inputs.ctr < rules.threshold * inputs.ctr_prior_28d',
        'score': 'rules.threshold * inputs.ctr_prior_28d / nullif(inputs.ctr, 0)',
        'explanation': "'CTR ' || " ~ format_metric_value("'ctr'", 'inputs.ctr', 'inputs.currency') ~ " || ' is under ' || " ~ format_share('rules.threshold') ~ " || ' of its 28-day level ' || " ~ format_metric_value("'ctr'", 'inputs.ctr_prior_28d', 'inputs.currency') ~ " || ' (' || to_char(inputs.impressions, 'FM999,999,999,990') || ' impressions)'",
    },
    'spend_spike_day_over_day': {
        'value': 'inputs.spend',
        'baseline': 'inputs.spend_previous_day',
        'threshold_value': 'rules.threshold * inputs.spend_previous_day',
        'condition': 'inputs.spend >= rules.min_spend and inputs.spend_previous_day > 0 and inputs.spend > rules.threshold * inputs.spend_previous_day and inputs.spend > coalesce(rules.secondary_threshold, 0) * coalesce(inputs.spend_daily_avg_prior_28d, 0)',
        'score': 'inputs.spend / nullif(rules.threshold * inputs.spend_previous_day, 0)',
        'explanation': "'Spend ' || " ~ format_metric_value("'spend'", 'inputs.spend', 'inputs.currency') ~ " || ' is up ' || " ~ format_share('inputs.spend / nullif(inputs.spend_previous_day, 0) - 1') ~ " || ' on the previous day (' || " ~ format_metric_value("'spend'", 'inputs.spend_previous_day', 'inputs.currency') ~ " || ')'",
    },
    'acos_above': {
        'value': 'inputs.acos',
        'baseline': 'cast(null as ' ~ dbt.type_float() ~ ')',
        'threshold_value': 'rules.threshold',
        'condition': 'inputs.spend >= rules.min_spend and inputs.conversions_daily_avg_prior_28d >= rules.min_conversions and (inputs.conversion_value = 0 or inputs.acos > rules.threshold)',
        'score': 'inputs.acos / nullif(rules.threshold, 0)',
        'explanation': "'ACOS ' || " ~ format_metric_value("'acos'", 'inputs.acos', 'inputs.currency') ~ " || ' is over the ' || " ~ format_metric_value("'acos'", 'rules.threshold', 'inputs.currency') ~ " || ' target (spend ' || " ~ format_metric_value("'spend'", 'inputs.spend', 'inputs.currency') ~ " || ', conversion value ' || " ~ format_metric_value("'spend'", 'inputs.conversion_value', 'inputs.currency') ~ " || ')'",
    },
    'roas_below_floor': {
        'value': 'inputs.roas',
        'baseline': 'cast(null as ' ~ dbt.type_float() ~ ')',
        'threshold_value': 'rules.threshold',
        'condition': 'inputs.spend >= rules.min_spend and inputs.roas < rules.threshold',
        'score': 'rules.threshold / nullif(inputs.roas, 0)',
        'explanation': "'ROAS ' || " ~ format_metric_value("'roas'", 'inputs.roas', 'inputs.currency') ~ " || ' is under the ' || " ~ format_metric_value("'roas'", 'rules.threshold', 'inputs.currency') ~ " || ' floor (spend ' || " ~ format_metric_value("'spend'", 'inputs.spend', 'inputs.currency') ~ " || ')'",
    },
    'conversions_stopped': {
        'value': 'inputs.conversions',
        'baseline': 'inputs.conversions_expected',
        'threshold_value': 'rules.threshold',
        'condition': 'inputs.spend >= rules.min_spend and inputs.prior_days >= ' ~ min_baseline_days ~ ' and inputs.conversions = 0 and (inputs.conversions_expected >= rules.threshold or (inputs.conversions_previous_day = 0 and inputs.conversions_expected + inputs.conversions_expected_previous_day >= rules.threshold) or (inputs.days_last_3d = 3 and inputs.conversions_last_3d = 0 and inputs.conversions_expected_last_3d >= rules.threshold))',
        'score': 'greatest(inputs.conversions_expected, inputs.conversions_expected + case when inputs.conversions_previous_day = 0 then inputs.conversions_expected_previous_day else 0 end, case when inputs.days_last_3d = 3 and inputs.conversions_last_3d = 0 then inputs.conversions_expected_last_3d else 0 end) / nullif(rules.threshold, 0)',
        'explanation': "case when inputs.conversions_expected >= rules.threshold or inputs.conversions_previous_day > 0 then 'no conversions, while its ' || to_char(inputs.clicks, 'FM999,999,990') || ' clicks would have brought about ' || to_char(inputs.conversions_expected, 'FM999,990.0') when inputs.conversions_expected + inputs.conversions_expected_previous_day >= rules.threshold then 'no conversions for 2 days, while their ' || to_char(inputs.clicks + inputs.clicks_previous_day, 'FM999,999,990') || ' clicks would have brought about ' || to_char(inputs.conversions_expected + inputs.conversions_expected_previous_day, 'FM999,990.0') else 'no conversions for 3 days, while their ' || to_char(inputs.clicks_last_3d, 'FM999,999,990') || ' clicks would have brought about ' || to_char(inputs.conversions_expected_last_3d, 'FM999,990.0') end || ' at its 28-day conversion rate'",
    },
    'stopped_reporting': {
        'inputs': ['gap_inputs'],
        'value': 'cast(0 as ' ~ dbt.type_float() ~ ')',
        'baseline': 'inputs.spend_daily_avg_prior_7d',
        'threshold_value': 'rules.threshold',
        'condition': 'inputs.active_days_prior_7d >= rules.threshold and inputs.spend_daily_avg_prior_7d >= rules.min_spend',
        'score': 'inputs.active_days_prior_7d / nullif(rules.threshold, 0)',
        'explanation': "'no numbers reported for the day, although it spent on ' || inputs.active_days_prior_7d || ' of the 7 days before (' || " ~ format_metric_value("'spend'", 'inputs.spend_daily_avg_prior_7d', 'inputs.currency') ~ " || ' a day on average)'",
    },
    'budget_pacing': {
        'inputs': ['campaign_inputs', 'workspace_inputs'],
        'value': 'inputs.spend_month_to_date * inputs.days_in_month / inputs.days_elapsed_in_month',
        'baseline': 'inputs.monthly_budget',
        'threshold_value': 'rules.threshold * inputs.monthly_budget',
        'condition': 'inputs.monthly_budget > 0 and inputs.days_elapsed_in_month >= ' ~ var('rule_pacing_min_days') ~ ' and inputs.spend_month_to_date * inputs.days_in_month / inputs.days_elapsed_in_month > rules.threshold * inputs.monthly_budget',
        'score': 'inputs.spend_month_to_date * inputs.days_in_month / inputs.days_elapsed_in_month / nullif(rules.threshold * inputs.monthly_budget, 0)',
        'explanation': "'Month-to-date spend ' || " ~ format_metric_value("'spend'", 'inputs.spend_month_to_date', 'inputs.currency') ~ " || ' after ' || inputs.days_elapsed_in_month || ' of ' || inputs.days_in_month || ' days projects to ' || " ~ format_metric_value("'spend'", 'inputs.spend_month_to_date * inputs.days_in_month / inputs.days_elapsed_in_month', 'inputs.currency') ~ " || ', ' || " ~ format_share('inputs.spend_month_to_date * inputs.days_in_month / inputs.days_elapsed_in_month / inputs.monthly_budget') ~ " || ' of the monthly budget ' || " ~ format_metric_value("'spend'", 'inputs.monthly_budget', 'inputs.currency'),
    },
} -%}

with

int_alert_rule_inputs as (

    select * from {{ ref('int_alert_rule_inputs') }}
    {%- if is_incremental() %}
    where date_day >= {{ since }}
    {%- endif %}

),

int_alert_rules_configured as (

    select * from {{ ref('int_alert_rules_configured') }}

),

-- Not materialized: each reference below reads the table itself, with its statistics (as a materialized CTE
-- it had none, and the gap days' joins were estimated at one row and planned as nested loops).
fct_ad_performance_daily as not materialized (

    select * from {{ ref('fct_ad_performance_daily') }}
    where
        is_active is not false  -- accounts removed from the registry are not alerted on
        {%- if is_incremental() %}
        -- the gap days look 7 days back, the workspace's month-to-date spend to the first of the month
        and date_day >= least({{ dbt.dateadd('day', -7, since) }}, cast(date_trunc('month', {{ since }}) as date))
        {%- endif %}

),

int_workspace_settings_pivoted as (

    select * from {{ ref('int_workspace_settings_pivoted') }}

),

campaign_inputs as (

    select
        *,
        'campaign' as entity_type,
        campaign_id as entity_id

    from int_alert_rule_inputs

),

workspace_spend as (

    select
        date_day,
        workspace_id,
        sum(spend_reporting) as spend

    from fct_ad_performance_daily
    group by
        date_day,
        workspace_id

),

workspace_inputs as (

    select
        spend.date_day,
        spend.workspace_id,
        'all' as platform,
        'all' as account_id,
        'all' as campaign_id,
        'All campaigns' as campaign_name,
        settings.reporting_currency as currency,
        'workspace' as entity_type,
        spend.workspace_id as entity_id,
        sum(spend.spend) over (
            partition by spend.workspace_id, date_trunc('month', spend.date_day)
            order by spend.date_day
        ) as spend_month_to_date,
        {{ day_of_month('spend.date_day') }} as days_elapsed_in_month,
        {{ days_in_month('spend.date_day') }} as days_in_month,
        settings.budget_monthly as monthly_budget

    from workspace_spend as spend
    inner join int_workspace_settings_pivoted as settings
        on spend.workspace_id = settings.workspace_id

),

carried_forward as materialized (

    -- Every campaign row carried 1 to 7 days forward: the days it is "recent" for.
    select
        recent.workspace_id,
        recent.platform,
        recent.account_id,
        recent.campaign_id,
        recent.campaign_name,
        recent.currency,
        recent.spend,
        recent.date_day + days_after.n as gap_day

    from fct_ad_performance_daily as recent
    cross join generate_series(1, 7) as days_after (n)

),

gap_days as (

    -- Each campaign-day of the 7 days before a day its account reported, for the campaigns with no row that
    -- day. Equality joins on plain columns (`gap_day` is one: carried_forward is materialized), which the
    -- planner hashes: a range join here (or an expression across two relations) was estimated at one row
    -- and planned as nested loops over each account's days, quadratic in the history (225 s of a 730-day
    -- full build against 3.5 s at 90 days).
    select
        account_days.date_day,
        account_days.workspace_id,
        account_days.platform,
        account_days.account_id,
        carried_forward.campaign_id,
        carried_forward.campaign_name,
        carried_forward.currency,
        carried_forward.spend

    from carried_forward
    inner join (
        select distinct date_day, workspace_id, platform, account_id
        from fct_ad_performance_daily
        {%- if is_incremental() %}
        where date_day >= {{ since }}
        {%- endif %}
    ) as account_days
        on
            carried_forward.workspace_id = account_days.workspace_id
            and carried_forward.platform = account_days.platform
            and carried_forward.account_id = account_days.account_id
            and carried_forward.gap_day = account_days.date_day
    left join fct_ad_performance_daily as today
        on
            account_days.workspace_id = today.workspace_id
            and account_days.platform = today.platform
            and account_days.account_id = today.account_id
            and carried_forward.campaign_id = today.campaign_id
            and account_days.date_day = today.date_day
    where today.campaign_id is null

),

gap_inputs as (

    select
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        max(campaign_name) as campaign_name,
        max(currency) as currency,
        'campaign' as entity_type,
        campaign_id as entity_id,
        count(*) filter (where spend > 0) as active_days_prior_7d,
        sum(spend) / 7.0 as spend_daily_avg_prior_7d

    from gap_days
    group by
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id

),

{%- set evaluated = [] %}
{%- for rule_id, rule in rules.items() %}
    {%- for inputs_relation in rule.get('inputs', ['campaign_inputs']) %}
        {%- do evaluated.append((rule_id, rule, inputs_relation)) %}
    {%- endfor %}
{%- endfor %}

evaluations as (

    {%- for rule_id, rule, inputs_relation in evaluated %}

    select
        inputs.date_day,
        inputs.workspace_id,
        inputs.platform,
        inputs.account_id,
        inputs.campaign_id,
        inputs.campaign_name,
        inputs.currency,
        inputs.entity_type,
        inputs.entity_id,
        rules.rule_id,
        rules.rule_name,
        rules.metric,
        rules.comparison,
        rules.severity,
        cast({{ rule.value }} as {{ dbt.type_float() }}) as value,
        cast({{ rule.baseline }} as {{ dbt.type_float() }}) as baseline,
        cast(rules.threshold as {{ dbt.type_float() }}) as threshold,
        cast({{ rule.threshold_value }} as {{ dbt.type_float() }}) as threshold_value,
        coalesce({{ rule.condition }}, false) as is_triggered,
        cast(coalesce(least({{ rule.score }}, {{ score_cap }}), {{ score_cap }}) as {{ dbt.type_float() }}) as score,
        {{ rule.explanation }} as explanation

    from {{ inputs_relation }} as inputs
    inner join int_alert_rules_configured as rules
        on
            inputs.workspace_id = rules.workspace_id
            and rules.rule_id = '{{ rule_id }}'
            and rules.is_enabled
            and (rules.platforms is null or inputs.platform = any(string_to_array(rules.platforms, ',')))
    {{ 'union all' if not loop.last }}
    {%- endfor %}

),

final as (

    select * from evaluations
    {%- if is_incremental() %}
    where date_day >= {{ since }}
    {%- endif %}

)

select * from final
