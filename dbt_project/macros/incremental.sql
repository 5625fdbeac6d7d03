{#-
    Incremental marts whose daily cost follows the new data, not the history.

    A daily run rebuilds only the days that can have changed, from
    `incremental_changed_from()` on, and swaps them in with the
    `replace_date_range` strategy. The days that can have changed are the
    earliest of:

      - the target's last day minus `incremental_lookback_days` (at least the
        longest platform lookback: a platform restates that far back);
      - the first day of every load window the pipeline finished since the
        model's last build (`ops.sync_runs`), so an account that caught up
        after days of failures, or a new account's initial history, reaches
        the marts too, however far back it goes.

    "Since the last build" is a watermark per model in `incremental_state`
    (schema `incremental_state_schema`), written in the same transaction as
    the model; loads that finished up to `incremental_watermark_margin_hours`
    (default 1) before it are taken again, which covers loads still running
    while dbt ran (in the DAG none are: dbt starts after every load).

    Anything else that changes history (the `fx_rates` seed, an account's
    reporting currency, a KPI definition) needs `dbt build --full-refresh`,
    which rebuilds the whole table and gives the same rows.

        {{ config(materialized='incremental', incremental_strategy='replace_date_range',
                  unique_key=[...], post_hook="{{ record_incremental_watermark() }}") }}
        {% if is_incremental() %} where date_day >= '{{ incremental_changed_from() }}' {% endif %}
-#}

{% macro incremental_state_relation() -%}
    {{ return(api.Relation.create(
        database=target.database,
        schema=var('incremental_state_schema', 'intermediate'),
        identifier='incremental_state',
        type='table',
    )) }}
{%- endmacro %}


{% macro pipeline_loads_relation() -%}
    {#- The pipeline's load log; absent in a warehouse filled by other means. -#}
    {{ return(adapter.get_relation(database=target.database, schema=var('pipeline_state_schema', 'ops'), identifier='sync_runs')) }}
{%- endmacro %}


{% macro incremental_changed_from(date_column='date_day', anchor=none) -%}
    {#- The first day to rebuild, as 'YYYY-MM-DD'; '0001-01-01' (everything) when unknown. Queries at run time only.
        `anchor`: the relation whose last day sets the lookback (default the model itself; a model that may
        be empty, like the exceptions mart, takes the fact's). -#}
    {%- if not execute -%}
        {{ return('0001-01-01') }}
    {%- endif -%}
    {%- set lookback = var('incremental_lookback_days') | int -%}
    {%- set margin = var('incremental_watermark_margin_hours', 1) | int -%}
    {%- set loads = pipeline_loads_relation() -%}
    {%- set state = adapter.get_relation(
        database=target.database,
        schema=var('incremental_state_schema', 'intermediate'),
        identifier='incremental_state',
    ) -%}
    {%- set query -%}
        with

        target_end as (

            select max({{ date_column }}) - {{ lookback }} as first_day
            from {{ anchor if anchor is not none else this }}

        ),

        {% if loads is not none %}
        watermark as (

            {% if state is not none %}
            select max(loads_through) - interval '{{ margin }} hours' as loads_through
            from {{ state }}
            where model_name = '{{ this.identifier }}'
            {% else %}
            select cast(null as timestamptz) as loads_through
            {% endif %}

        ),

        loads_since as (

            select min(loads.window_start) as first_day
            from {{ loads }} as loads
            cross join watermark
            where
                loads.status in ('loaded', 'loaded_incomplete')
                and (watermark.loads_through is null or loads.finished_at > watermark.loads_through)

        ),
        {% endif %}

        final as (

            select
                least(
                    target_end.first_day
                    {%- if loads is not none %},
                    loads_since.first_day
                    {%- endif %}
                ) as first_day

            from target_end
            {%- if loads is not none %}
            cross join loads_since
            {%- endif %}

        )

        select * from final
    {%- endset -%}
    {%- set first_day = run_query(query).columns[0].values()[0] -%}
    {{ return(first_day.isoformat() if first_day is not none else '0001-01-01') }}
{%- endmacro %}


{% macro record_incremental_watermark() -%}
    {#- Post-hook of an incremental model: the loads it has taken in, for its next run. -#}
    {%- set state = incremental_state_relation() -%}
    {%- set loads = pipeline_loads_relation() -%}
    -- Incremental models built in parallel would race to create the state table (`if not exists` is not atomic).
    select pg_advisory_xact_lock(hashtext('ads_elt.incremental_state'));
    create schema if not exists {{ adapter.quote(state.schema) }};
    create table if not exists {{ state }} (
        model_name text primary key,
        loads_through timestamptz,
        built_at timestamptz not null
    );
    insert into {{ state }} (model_name, loads_through, built_at)
    select
        '{{ this.identifier }}',
        {% if loads is not none -%}
        (select max(finished_at) from {{ loads }} where status in ('loaded', 'loaded_incomplete')),
        {%- else -%}
        cast(null as timestamptz),
        {%- endif %}
        now()
    on conflict (model_name) do update set
        loads_through = excluded.loads_through,
        built_at = excluded.built_at
{%- endmacro %}


{#-
    Strategy `replace_date_range`: delete every target row from the first day
    of the new rows on, then insert the new rows, in one transaction. Unlike a
    key-matched delete+insert, a row that disappeared from the source within
    the range (a campaign-day the platform no longer reports) goes too, so an
    incremental run leaves exactly what a full refresh would. The model must
    select every row from its first day on. Config: `replace_date_column`
    (default `date_day`).
-#}
{% macro get_incremental_replace_date_range_sql(arg_dict) -%}
    {%- set target = arg_dict['target_relation'] -%}
    {%- set source = arg_dict['temp_relation'] -%}
    {%- set date_column = config.get('replace_date_column', 'date_day') -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ target }}
    where {{ date_column }} >= (select min({{ date_column }}) from {{ source }});

    insert into {{ target }} ({{ columns }})
    select {{ columns }}
    from {{ source }}
{%- endmacro %}
