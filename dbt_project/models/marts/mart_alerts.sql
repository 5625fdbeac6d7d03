{#-
    Alert candidates: one row per alert, from the anomaly detector
    (mart_anomalies where is_anomaly) and from the alert rules
    (int_alert_rule_evaluations where is_triggered), with the numbers that
    triggered it, the baseline, a one-line explanation and the deep link to
    the dashboard pre-filtered to its workspace, platform, campaign and day.
    An alert a workspace's planned change explains (ops.planned_changes)
    stays here with `planned_change_id` and is never sent.

    alert_key = workspace_id|platform|campaign_id|signal|date_day, where the
    signal is the metric for an anomaly and the rule_id for a rule; the
    alerts step dedupes and suppresses on it (ops.alert_log). alert_id is
    md5(alert_key), the same id as ops.alert_log.alert_id (its first ten
    characters are shown in the digests, for `python -m ads_elt.alerts ack`).

    Severity: an anomaly is critical when |robust z| >= 2 x its threshold,
    else a warning; a rule has the severity of its seed row.
    `score` ranks how bad it is (|robust z|, or the value's distance beyond
    the rule's threshold as a ratio): a repeat alert is re-sent inside the
    suppression interval only when its score has grown.
-#}
{%- set alert_key_sql -%}
    unioned.workspace_id || '|' || unioned.platform || '|' || unioned.campaign_id || '|' || unioned.signal
        || '|' || cast(unioned.date_day as {{ dbt.type_string() }})
{%- endset %}

with

mart_anomalies as (

    select * from {{ ref('mart_anomalies') }}

),

int_alert_rule_evaluations as (

    select * from {{ ref('int_alert_rule_evaluations') }}

),

int_workspace_settings_pivoted as (

    select * from {{ ref('int_workspace_settings_pivoted') }}

),

stg_ops__planned_changes as (

    select * from {{ ref('stg_ops__planned_changes') }}

),

anomaly_alerts as (

    select
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        currency,
        entity_type,
        entity_id,
        'anomaly' as source,
        metric as signal,
        cast(null as {{ dbt.type_string() }}) as rule_id,
        metric,
        direction,
        value,
        baseline_median as baseline,
        baseline_mad,
        baseline_median - z_threshold * robust_sigma as baseline_low,
        baseline_median + z_threshold * robust_sigma as baseline_high,
        robust_z,
        z_threshold as threshold,
        case
            when direction = 'up' then baseline_median + z_threshold * robust_sigma
            else baseline_median - z_threshold * robust_sigma
        end as threshold_value,
        scoring_method,
        history_days,
        case when abs(robust_z) >= 2 * z_threshold then 'critical' else 'warning' end as severity,
        abs(robust_z) as score,
        {{ metric_label('metric') }} || ' ' || {{ format_metric_value('metric', 'value', 'currency') }}
        || case when direction = 'up' then ' is unusually high' else ' is unusually low' end
        || ': usually ' || {{ format_metric_value('metric', 'baseline_median', 'currency') }}
        || case
            when scoring_method = 'day_of_week'
                then ' (median of the same weekday over the last ' || history_days || ' weeks'
            else ' (median of the last ' || history_days || ' days'
        end
        || ', robust z ' || to_char(cast(robust_z as numeric), 'FMS990.0') || ')' as explanation

    from mart_anomalies
    where is_anomaly

),

rule_alerts as (

    select
        date_day,
        workspace_id,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        currency,
        entity_type,
        entity_id,
        'rule' as source,
        rule_id as signal,
        rule_id,
        metric,
        case when comparison like 'below%' then 'down' else 'up' end as direction,
        value,
        baseline,
        cast(null as {{ dbt.type_float() }}) as baseline_mad,
        cast(null as {{ dbt.type_float() }}) as baseline_low,
        cast(null as {{ dbt.type_float() }}) as baseline_high,
        cast(null as {{ dbt.type_float() }}) as robust_z,
        threshold,
        threshold_value,
        cast(null as {{ dbt.type_string() }}) as scoring_method,
        cast(null as integer) as history_days,
        severity,
        score,
        rule_name || ': ' || explanation as explanation

    from int_alert_rule_evaluations
    where is_triggered

),

unioned as (

    select * from anomaly_alerts
    union all
    select * from rule_alerts

),

explained as (

    -- The planned change that explains an alert, if any: same workspace, inside its scope (a change on part
    -- of the workspace also explains the workspace totals), between its start and end plus settle_days,
    -- and a signal of its kind: a budget step explains spend and efficiency (more budget buys dearer
    -- conversions) but not what says something broke (CTR collapse, conversions stopped, spend up while
    -- conversions fall, a campaign that stopped reporting); a launch, a promotion or a pause explain
    -- everything. The latest-starting change wins.
    select distinct on (unioned.workspace_id, unioned.platform, unioned.campaign_id, unioned.signal, unioned.date_day)
        unioned.workspace_id,
        unioned.platform,
        unioned.campaign_id,
        unioned.signal,
        unioned.date_day,
        planned.change_id,
        planned.kind || case when planned.note is not null and planned.note <> '' then ': ' || planned.note else '' end
        as planned_change

    from unioned
    inner join stg_ops__planned_changes as planned
        on
            unioned.workspace_id = planned.workspace_id
            and (planned.platform is null or planned.platform = unioned.platform or unioned.platform = 'all')
            and (planned.campaign_id is null or planned.campaign_id = unioned.campaign_id or unioned.campaign_id = 'all')
            and unioned.date_day between planned.start_date and planned.end_date + planned.settle_days
            and (
                planned.kind <> 'budget_step'
                or unioned.signal not in (
                    'ctr', 'ctr_below_baseline', 'conversions_stopped', 'spend_up_conversions_down', 'stopped_reporting'
                )
            )
    order by
        unioned.workspace_id, unioned.platform, unioned.campaign_id, unioned.signal, unioned.date_day,
        planned.start_date desc, planned.change_id

),

final as (

    select
        {{ dbt.hash(alert_key_sql) }} as alert_id,
        {{ alert_key_sql }} as alert_key,
        unioned.date_day,
        unioned.workspace_id,
        unioned.platform,
        unioned.account_id,
        unioned.campaign_id,
        unioned.campaign_name,
        unioned.currency,
        unioned.entity_type,
        unioned.entity_id,
        unioned.source,
        unioned.signal,
        unioned.rule_id,
        unioned.metric,
        unioned.direction,
        cast(unioned.value as {{ dbt.type_float() }}) as value,
        cast(unioned.baseline as {{ dbt.type_float() }}) as baseline,
        cast(unioned.baseline_mad as {{ dbt.type_float() }}) as baseline_mad,
        cast(unioned.baseline_low as {{ dbt.type_float() }}) as baseline_low,
        cast(unioned.baseline_high as {{ dbt.type_float() }}) as baseline_high,
        cast(unioned.robust_z as {{ dbt.type_float() }}) as robust_z,
        cast(unioned.threshold as {{ dbt.type_float() }}) as threshold,
        cast(unioned.threshold_value as {{ dbt.type_float() }}) as threshold_value,
        unioned.scoring_method,
        unioned.history_days,
        unioned.severity,
        cast(unioned.score as {{ dbt.type_float() }}) as score,
        unioned.explanation,
        {{ dashboard_link('settings.dashboard_url', 'unioned.workspace_id', 'unioned.platform', 'unioned.campaign_id', 'unioned.date_day') }} as dashboard_url,
        explained.change_id as planned_change_id,
        explained.planned_change

    from unioned
    left join int_workspace_settings_pivoted as settings
        on unioned.workspace_id = settings.workspace_id
    left join explained
        on
            unioned.workspace_id = explained.workspace_id
            and unioned.platform = explained.platform
            and unioned.campaign_id = explained.campaign_id
            and unioned.signal = explained.signal
            and unioned.date_day = explained.date_day

)

select * from final
