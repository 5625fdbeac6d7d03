{#-
    One row per workspace with its effective anomaly, alerting and budget
    settings: the registry's value (ops.workspace_settings) where set, else
    the project default (dbt var). Every workspace with an account is here,
    with or without settings.
-#}
{%- set settings = {
    'anomaly_window_days': ('int', var('anomaly_window_days')),
    'anomaly_z_threshold': ('float', var('anomaly_z_threshold')),
    'anomaly_min_history_days': ('int', var('anomaly_min_history_days')),
    'anomaly_dow_weeks': ('int', var('anomaly_dow_weeks')),
    'anomaly_dow_min_history': ('int', var('anomaly_dow_min_history')),
    'anomaly_min_relative_mad': ('float', var('anomaly_min_relative_mad')),
    'anomaly_min_spend': ('float', var('anomaly_min_spend')),
    'anomaly_min_impressions': ('float', var('anomaly_min_impressions')),
    'anomaly_min_clicks': ('float', var('anomaly_min_clicks')),
    'anomaly_min_conversions': ('float', var('anomaly_min_conversions')),
    'anomaly_metrics': ('text', var('anomaly_metrics')),
    'dashboard_url': ('text', var('dashboard_url_template')),
    'budget_monthly': ('float', none),
    'budget_max_shift_share': ('float', var('budget_max_shift_share')),
    'budget_min_daily_budget': ('float', var('budget_min_daily_budget')),
    'budget_min_spend_28d': ('float', var('budget_min_spend_28d')),
    'budget_min_conversions_28d': ('float', var('budget_min_conversions_28d')),
    'budget_min_roas_gap': ('float', var('budget_min_roas_gap')),
} -%}
{%- set sql_types = {'int': 'integer', 'float': dbt.type_float(), 'text': dbt.type_string()} -%}

with

stg_ops__workspace_accounts as (

    select * from {{ ref('stg_ops__workspace_accounts') }}

),

stg_ops__workspace_settings as (

    select * from {{ ref('stg_ops__workspace_settings') }}

),

workspaces as (

    select
        workspace_id,
        max(reporting_currency) as reporting_currency

    from stg_ops__workspace_accounts
    group by workspace_id

),

pivoted as (

    select
        workspaces.workspace_id,
        workspaces.reporting_currency,
        {%- for name in settings %}
        max(case when settings.setting = '{{ name }}' then settings.setting_value end) as {{ name }}_text{{ ',' if not loop.last }}
        {%- endfor %}

    from workspaces
    left join stg_ops__workspace_settings as settings
        on workspaces.workspace_id = settings.workspace_id
    group by
        workspaces.workspace_id,
        workspaces.reporting_currency

),

final as (

    select
        workspace_id,
        reporting_currency,
        {%- for name, (kind, default) in settings.items() %}
        cast(
            {%- if default is none %}
            {{ name }}_text
            {%- else %}
            coalesce({{ name }}_text, '{{ default }}')
            {%- endif %}
            as {{ sql_types[kind] }}
        ) as {{ name }}{{ ',' if not loop.last }}
        {%- endfor %}

    from pivoted

)

select * from final
