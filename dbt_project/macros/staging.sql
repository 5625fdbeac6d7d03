{#-
    The staging pattern. A platform's staging model is its source, its renames
    (canonical column -> SQL expression on the raw row) and one macro call:

        {{ stage_performance(
            source('<platform>', 'campaign_report'),
            platform='<platform>',
            entity_id='campaign_id',
            fields={'date_day': ..., 'campaign_id': ..., 'campaign_name': ..., 'currency': ...},
            metrics=payload_metrics(['impressions', 'clicks', 'spend', ...], path=['metrics']),
        ) }}

    The macros own the casts, the latest extraction of each row and the final
    select, so every platform's rows come out in the same columns and types.
-#}

{#- The canonical metric columns and their types (0 when the platform sends none). -#}
{% macro canonical_metric_types() -%}
    {{ return({
        'impressions': 'bigint',
        'clicks': 'bigint',
        'spend': 'numeric',
        'conversions': 'numeric',
        'conversion_value': 'numeric',
    }) }}
{%- endmacro %}


{#-
    One row per workspace, account, `entity_id` and day of a performance
    report (campaign-day, ad group-day, ad-day, creative-day): the latest
    extraction of each, in the columns

        date_day, workspace_id, platform, account_id,
        <the other `fields`, in their order: ids and names, text>,
        currency, impressions, clicks, spend, conversions, conversion_value,
        <`extras`, in their order>, sync_run_id, extracted_at

    `fields` maps `date_day` (cast to date), the report's ids and names and
    `currency` to expressions; `none` is a column the report does not carry
    (a typed null). `metrics` maps the canonical metrics to expressions, cast
    to their canonical types with 0 for a metric not sent. `extras` are
    platform-specific columns (expression with its own cast -> name).
    `tiebreak` orders two loads of one extraction (name -> expression,
    latest value wins); it is not in the output.
-#}
{% macro stage_performance(source_relation, platform, entity_id, fields, metrics, extras={}, tiebreak={}) -%}
{%- set metric_types = canonical_metric_types() -%}
{%- set entity_columns = [] -%}
{%- for name in fields if name not in ['date_day', 'currency'] -%}
    {%- do entity_columns.append(name) -%}
{%- endfor -%}
{%- set parsed = {'date_day': 'cast(' ~ fields['date_day'] ~ ' as date)', 'workspace_id': 'workspace_id',
    'platform': "'" ~ platform ~ "'", 'account_id': 'account_id'} -%}
{%- for name in entity_columns + ['currency'] -%}
    {%- do parsed.update({name: typed_text_or_null(fields.get(name))}) -%}
{%- endfor -%}
{%- for name, type in metric_types.items() -%}
    {%- do parsed.update({name: 'coalesce(cast(' ~ metrics[name] ~ ' as ' ~ type ~ '), 0)'}) -%}
{%- endfor -%}
{%- do parsed.update(extras) -%}
{{ latest_extraction_model(
    source_relation,
    parsed,
    ['workspace_id', 'account_id', entity_id, 'date_day'],
    tiebreak,
) }}
{%- endmacro %}


{#-
    One row per object of an entity list (raw rows without a report day: a
    platform's campaigns, ad groups, creatives), the latest extraction of
    each, in the columns

        workspace_id, platform, account_id, <`fields`, in their order>, sync_run_id, extracted_at

    `fields` maps each column (text) to its expression; `entity_id` is the
    one naming the object.
-#}
{% macro stage_entity_list(source_relation, platform, entity_id, fields) -%}
{%- set parsed = {'workspace_id': 'workspace_id', 'platform': "'" ~ platform ~ "'", 'account_id': 'account_id'} -%}
{%- do parsed.update(fields) -%}
{{ latest_extraction_model(source_relation, parsed, ['workspace_id', 'account_id', entity_id]) }}
{%- endmacro %}


{#-
    The SQL of a staging model from its parts: `source_relation`, `columns`
    (name -> expression on the raw row, in output order, followed by
    sync_run_id and extracted_at), the latest extraction of each
    `key_columns`, with `tiebreak` (name -> expression, latest value wins;
    not in the output) ordering two loads of one extraction run.
-#}
{% macro latest_extraction_model(source_relation, columns, key_columns, tiebreak={}) -%}
{%- set output_columns = (columns | list) + ['sync_run_id', 'extracted_at'] -%}
with

source as (

    select * from {{ source_relation }}

),

parsed as (

    select
        {%- for name, expression in columns.items() %}
        {{ expression if expression == name else expression ~ ' as ' ~ name }},
        {%- endfor %}
        {%- for name, expression in tiebreak.items() %}
        {{ expression }} as {{ name }},
        {%- endfor %}
        sync_run_id,
        extracted_at

    from source

),

deduplicated as (

    {{ latest_extraction('parsed', key_columns, tiebreak | list) }}

),

final as (

    select
        {{ output_columns | join(',\n        ') }}

    from deduplicated

)

select * from final
{%- endmacro %}


{#-
    The canonical metrics of a payload whose metrics sit under one `path`:
    `keys` are their payload keys in the canonical order (impressions,
    clicks, spend, conversions, conversion_value). `micros` names the
    canonical metrics sent in micro-units (divided by 1e6); with
    `placeholders` a text metric such as "-" or "" is a missing value
    (`numeric_or_null`). With `action_type`, conversions and their value
    are that one action type's value in the actions-style arrays their keys
    name (`json_action_value`).
-#}
{% macro payload_metrics(keys, path=[], micros=[], placeholders=false, action_type=none) -%}
{%- set metrics = {} -%}
{%- for name in canonical_metric_types() -%}
    {%- if action_type is not none and name in ['conversions', 'conversion_value'] -%}
        {%- set expression = json_action_value('payload', keys[loop.index0], action_type) -%}
    {%- else -%}
        {%- set expression = json_text('payload', *(path + [keys[loop.index0]])) -%}
    {%- endif -%}
    {%- if placeholders -%}{%- set expression = numeric_or_null(expression) -%}{%- endif -%}
    {%- if name in micros -%}{%- set expression = micros_to_units(expression) -%}{%- endif -%}
    {%- do metrics.update({name: expression}) -%}
{%- endfor -%}
{{ return(metrics) }}
{%- endmacro %}


{#- A text column's expression, or a typed null for a column the source does not carry. -#}
{% macro typed_text_or_null(expression) -%}
    {{ expression if expression is not none else 'cast(null as ' ~ dbt.type_string() ~ ')' }}
{%- endmacro %}


{#-
    The latest extraction of each entity in a staging CTE: overlapping
    extraction windows (or repeated entity lists) can load the same record
    more than once, and the latest is the platform's current answer.
    `tiebreak_columns` order two loads of the same extraction run (the
    latest value wins). Keeps every column of `cte` plus `extraction_rank`
    (always 1).

        deduplicated as ({{ latest_extraction('parsed', ['workspace_id', 'account_id', 'campaign_id']) }}),
-#}
{% macro latest_extraction(cte, key_columns, tiebreak_columns=[]) -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by extracted_at desc, sync_run_id desc
                {%- for column in tiebreak_columns %}, {{ column }} desc{% endfor %}
            ) as extraction_rank

        from {{ cte }}
    ) as ranked
    where extraction_rank = 1
{%- endmacro %}


{#-
    One Amazon Marketing Stream dataset's records of the registry's profiles (a null workspace:
    an advertiser that is no registry profile), one row per distinct record, with the key
    columns both datasets share and the dataset's own `metrics` (SQL expression -> column name).
    Records are not combined here: the hourly fact adds them up (they are deltas).
-#}
{% macro stream_records(source_relation, metrics) -%}
    select
        idempotency_id,
        time_window_start as hour_start_utc,
        workspace_id,
        'amazon_ads' as platform,
        account_id,
        campaign_id,
        ad_group_id,
        ad_id,
        coalesce(keyword_id, '') as keyword_id,
        keyword_text,
        match_type,
        placement,
        upper(currency) as currency,
        {%- for expression, name in metrics.items() %}
        {{ expression }} as {{ name }},
        {%- endfor %}
        received_at

    from {{ source_relation }}
    where workspace_id is not null
{%- endmacro %}
