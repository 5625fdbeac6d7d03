{#-
    Every seed rule for every workspace, with the workspace's overrides from
    the registry (`rule.<rule_id>.<setting>` in ops.workspace_settings)
    applied over the seed's values.

    `platforms` (comma-separated, null = every platform) is where the rule
    applies: the workspace's `platforms` if it names them; else every
    platform when the workspace set the rule's `threshold` (its own target);
    else the seed's (`acos_above`: Amazon Ads only). A rule that is off by
    default (`roas_below_floor`: a floor only means something as the
    workspace's own target) is on where the workspace sets its threshold.
-#}
{%- set overridable = {
    'threshold': dbt.type_float(),
    'secondary_threshold': dbt.type_float(),
    'min_spend': dbt.type_float(),
    'min_impressions': dbt.type_float(),
    'min_conversions': dbt.type_float(),
} -%}

with

alert_rules as (

    select * from {{ ref('alert_rules') }}

),

int_workspace_settings_pivoted as (

    select * from {{ ref('int_workspace_settings_pivoted') }}

),

stg_ops__workspace_settings as (

    select * from {{ ref('stg_ops__workspace_settings') }}

),

overrides as (

    select
        workspace_id,
        split_part(setting, '.', 2) as rule_id,
        split_part(setting, '.', 3) as rule_setting,
        setting_value

    from stg_ops__workspace_settings
    where setting like 'rule.%'

),

final as (

    select
        workspaces.workspace_id,
        rules.rule_id,
        rules.rule_name,
        rules.metric,
        rules.comparison,
        rules.severity,
        rules.description,
        coalesce(
            cast(max(case when overrides.rule_setting = 'enabled' then overrides.setting_value end) as boolean),
            -- a workspace's own threshold is a target: it switches on a rule that is off by default
            case when max(case when overrides.rule_setting = 'threshold' then overrides.setting_value end) is not null then true end,
            rules.is_enabled
        ) as is_enabled,
        {%- for name, sql_type in overridable.items() %}
        coalesce(
            cast(max(case when overrides.rule_setting = '{{ name }}' then overrides.setting_value end) as {{ sql_type }}),
            cast(rules.{{ name }} as {{ sql_type }})
        ) as {{ name }},
        {%- endfor %}
        case
            when max(case when overrides.rule_setting = 'platforms' then overrides.setting_value end) is not null
                then max(case when overrides.rule_setting = 'platforms' then overrides.setting_value end)
            when max(case when overrides.rule_setting = 'threshold' then overrides.setting_value end) is not null
                then null
            else nullif(rules.platforms, '')
        end as platforms

    from int_workspace_settings_pivoted as workspaces
    cross join alert_rules as rules
    left join overrides
        on
            workspaces.workspace_id = overrides.workspace_id
            and rules.rule_id = overrides.rule_id
    group by
        workspaces.workspace_id,
        rules.rule_id,
        rules.rule_name,
        rules.metric,
        rules.comparison,
        rules.severity,
        rules.description,
        rules.is_enabled,
        rules.threshold,
        rules.secondary_threshold,
        rules.min_spend,
        rules.min_impressions,
        rules.min_conversions,
        rules.platforms

)

select * from final
