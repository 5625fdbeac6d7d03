{#
    Views are replaced in place, one at a time across the whole warehouse.

    dbt's default view materialization renames the old view to a backup and
    drops that backup with `cascade`, which also drops every view built on it
    (`int_ad_performance_unioned` on the staging views, the alerting views on
    `fct_ad_performance_daily`). Two dbt threads, or two Airflow tasks, that
    replace views with a common dependent then lock that dependent in
    different orders and Postgres aborts one of them with `deadlock detected`.
    Between the drop and the dependent's own rebuild, readers also find the
    dependent missing.

    Here, instead:
    - every view replacement and every `drop ... cascade` dbt issues first takes
      one transaction-scoped advisory lock (`view_replacement_lock_key`), so no
      two of them ever run at the same time, whatever process issues them;
    - a view is replaced with `create or replace view`, which keeps the view's
      identity, so the views built on it stay valid and nothing is dropped.
      Only when Postgres cannot replace it in place (a column renamed, removed,
      retyped or moved: SQLSTATE 42P16) is it dropped with its dependents and
      created again; dbt rebuilds those dependents after it, as it always did.
#}

{% macro view_replacement_lock_key() -%}
    hashtext('ads_elt.view_replacement')
{%- endmacro %}


{% macro view_replacement_lock_sql() -%}
    select pg_advisory_xact_lock({{ view_replacement_lock_key() }});
{%- endmacro %}


{% macro replace_view_sql(relation, existing_relation, sql) -%}
    {%- set sql_header = config.get('sql_header', none) -%}
    {%- set contract_config = config.get('contract') -%}
    {{ view_replacement_lock_sql() }}
    {% if existing_relation is not none and existing_relation.type != 'view' -%}
        drop {{ existing_relation.type }} if exists {{ existing_relation.render() }} cascade;
    {%- endif %}
    {{ sql_header if sql_header is not none }}
    do $replace_view$
    begin
        create or replace view {{ relation.render() }}
        {%- if contract_config.enforced %}
            {{ get_assert_columns_equivalent(sql) }}
        {%- endif %}
        as (
            {{ sql }}
        );
    exception when invalid_table_definition then
        drop view {{ relation.render() }} cascade;
        create view {{ relation.render() }} as (
            {{ sql }}
        );
    end
    $replace_view$;
{%- endmacro %}


{% materialization view, adapter='postgres' %}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='view') -%}
    {%- set grant_config = config.get('grants') -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}

    {% call statement('main') -%}
        {{ replace_view_sql(target_relation, existing_relation, sql) }}
    {%- endcall %}

    {% do apply_grants(target_relation, grant_config, should_revoke=should_revoke(existing_relation, full_refresh_mode=True)) %}
    {% do persist_docs(target_relation, model) %}

    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}


{% macro postgres__drop_relation(relation) -%}
    {#- The backups of tables and seeds that dbt rebuilds are dropped with `cascade` too. -#}
    {% call statement('drop_relation', auto_begin=False) -%}
        {{ view_replacement_lock_sql() }}
        {{ get_drop_sql(relation) }}
    {%- endcall %}
{% endmacro %}
