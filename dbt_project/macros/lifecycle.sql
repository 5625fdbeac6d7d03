{#-
    Rows that cannot be completed, and accounts that left the registry.

    A campaign-day whose account is not in the registry, whose currency is
    unknown, or whose day has no FX rate for its currency or the workspace's
    reporting currency cannot reach the marts in the reporting currency. It is
    kept out of the facts and listed, with its reason, in
    `mart_ad_performance_exceptions` (the `data_quality` task quarantines it in
    `ops.quarantine` and alerts that workspace `data_incomplete`), so one
    workspace's bad row never fails a shared model's test for everyone.

    An account removed from the registry keeps its history (its currency and
    time zone stay in `ops.workspace_accounts`, inactive): the facts and the KPI
    mart flag its rows `is_active = false`, the detector and the rules leave it
    out.
-#}

{% macro ad_performance_exception_reason(performance) -%}
    case
        when {{ performance }}.reporting_currency is null then 'unregistered_account'
        when {{ performance }}.currency is null then 'no_currency'
        when {{ performance }}.fx_rate_to_reporting is null then 'no_fx_rate'
    end
{%- endmacro %}


{% macro ad_performance_exception_detail(performance) -%}
    case
        when {{ performance }}.reporting_currency is null
            then 'account ' || {{ performance }}.account_id || ' is not in the registry (ops.workspace_accounts)'
        when {{ performance }}.currency is null
            then 'no currency in the payload or the registry'
        when {{ performance }}.fx_rate_to_reporting is null
            then 'no ' || {{ performance }}.currency || ' -> ' || {{ performance }}.reporting_currency
                || ' rate on ' || cast({{ performance }}.date_day as text) || ' in the fx_rates seed'
    end
{%- endmacro %}


{% macro refresh_is_active() -%}
    {#- Post-hook of an incremental mart: the account's current lifecycle on its older rows too. -#}
    with accounts as (

        select * from {{ ref('stg_ops__workspace_accounts') }}

    )

    update {{ this }} as target
    set is_active = accounts.is_active
    from accounts
    where
        target.workspace_id = accounts.workspace_id
        and target.platform = accounts.platform
        and target.account_id = accounts.account_id
        and target.is_active is distinct from accounts.is_active
{%- endmacro %}

{#-
    on-run-end: one row in `marts.build_log` for each dbt invocation that built a
    model in `marts`. The reporting service (api/) keys its cache and ETags on
    the latest row, so a response is never older than the last build.
-#}
{% macro record_mart_build() -%}
    {%- if execute -%}
        {%- set built = [] -%}
        {%- for r in results -%}
            {%- if r.node.resource_type == 'model' and r.node.schema == 'marts' and r.status == 'success' -%}
                {%- do built.append(r.node.name) -%}
            {%- endif -%}
        {%- endfor -%}
        {%- if built -%}
            create table if not exists marts.build_log (
                invocation_id text primary key,
                finished_at timestamptz not null default clock_timestamp(),
                models integer not null
            );
            comment on table marts.build_log is 'One row per dbt invocation that built a mart (on-run-end): the reporting service keys its cache on the latest.';
            comment on column marts.build_log.invocation_id is 'dbt invocation id.';
            comment on column marts.build_log.finished_at is 'When the invocation''s on-run-end ran.';
            comment on column marts.build_log.models is 'Marts the invocation built.';
            insert into marts.build_log (invocation_id, models)
            values ('{{ invocation_id }}', {{ built | length }})
            on conflict (invocation_id) do nothing;
            delete from marts.build_log where finished_at < now() - interval '30 days'
                and invocation_id <> '{{ invocation_id }}';
        {%- else -%}
            select 1
        {%- endif -%}
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
