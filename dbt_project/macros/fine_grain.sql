{#-
    Finer grains than the campaign (ad groups, ads): shared by their union
    models and their facts, so each grain reads the same way (their staging
    models follow `stage_performance`, macros/staging.sql).
-#}

{#-
    The union of a fine grain's staging models in the canonical columns, with
    the account's currency (when the payload has none) and the workspace's
    reporting currency from the account registry, like
    `int_ad_performance_unioned`. Unregistered accounts keep their rows with a
    null reporting currency, which fails the marts' tests rather than dropping
    spend silently.
-#}
{% macro union_fine_grain(platform_models, grain_columns) -%}
{%- set metrics = canonical_metric_types() | list -%}
{%- set canonical_columns = ['date_day', 'workspace_id', 'platform', 'account_id', 'campaign_id', 'campaign_name']
    + grain_columns + ['currency'] + metrics -%}
with

{{ union_models_ctes(platform_models, canonical_columns) }},

stg_ops__workspace_accounts as (

    select * from {{ ref('stg_ops__workspace_accounts') }}

),

with_account_currency as (

    select
        {%- for column in ['date_day', 'workspace_id', 'platform', 'account_id', 'campaign_id', 'campaign_name'] + grain_columns %}
        unioned.{{ column }},
        {%- endfor %}
        coalesce(unioned.currency, accounts.currency) as currency,
        accounts.reporting_currency,
        accounts.is_active,
        {%- for column in metrics %}
        unioned.{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}

    from unioned
    left join stg_ops__workspace_accounts as accounts
        on
            unioned.workspace_id = accounts.workspace_id
            and unioned.platform = accounts.platform
            and unioned.account_id = accounts.account_id

),

final as (

    select * from with_account_currency

)

select * from final
{%- endmacro %}


{#-
    A fine-grain fact: one row per date_day, workspace_id, platform,
    account_id, campaign_id and the grain's `key_columns`, money in the
    account currency and in the workspace's reporting currency through the
    daily FX table, like `fct_ad_performance_daily` (same FX join, same
    incremental rebuild of the days that can have changed).
-#}
{% macro fct_fine_grain(union_model, surrogate_key_name, key_columns, name_columns) -%}
{%- set key = ['date_day', 'workspace_id', 'platform', 'account_id', 'campaign_id'] + key_columns -%}
with

{{ union_model }} as (

    select * from {{ ref(union_model) }}
    {%- if is_incremental() %}
    where date_day >= '{{ incremental_changed_from() }}'
    {%- endif %}

),

int_fx_rates_daily as (

    select * from {{ ref('int_fx_rates_daily') }}

),

with_fx_rate as (

    select
        performance.*,
        case
            when performance.currency = performance.reporting_currency then 1
            else account_fx.usd_per_unit / reporting_fx.usd_per_unit
        end as fx_rate_to_reporting

    from {{ union_model }} as performance
    left join int_fx_rates_daily as account_fx
        on
            performance.date_day = account_fx.date_day
            and performance.currency = account_fx.currency_code
    left join int_fx_rates_daily as reporting_fx
        on
            performance.date_day = reporting_fx.date_day
            and performance.reporting_currency = reporting_fx.currency_code

),

complete as (

    -- as in fct_ad_performance_daily: a row that cannot be completed is kept out (macros/lifecycle.sql)
    select * from with_fx_rate
    where {{ ad_performance_exception_reason('with_fx_rate') }} is null

),

final as (

    select
        {{ surrogate_key(key) }} as {{ surrogate_key_name }},
        {%- for column in key %}
        {{ column }},
        {%- endfor %}
        campaign_name,
        {%- for column in name_columns %}
        {{ column }},
        {%- endfor %}
        {{ converted_performance_columns() }}

    from complete

)

select * from final
{%- endmacro %}
