{#-
    Store orders: the staging pattern of the `stg_<store>__orders` models and
    the pieces they and the attribution model share.
-#}

{#-
    A store's staging model: its source, the store's columns as expressions
    (its renames) and one call,

        {{ stage_orders(
            source('<store>', 'orders'),
            store_platform='<store>',
            prepared={'status': ..., ...},
            fields={'order_id': ..., 'order_name': ..., 'ordered_at': ..., ...},
        ) }}

    Every raw row gets `store_timezone`, the store's registry time zone (UTC
    when the store is not registered, which `mart_order_exceptions` lists),
    then the `prepared` columns (name -> expression on the raw row and
    `store_timezone`: values the fields read more than once). `fields` maps
    each canonical order column (order_id, order_name, ordered_at,
    order_date, updated_at, currency, gross_revenue, refunded_amount,
    is_cancelled, status, the five utm_ columns, click_at, landing_page,
    referrer_url) to an expression on those; workspace, store platform and
    store id are set here. `latest_order_version` keeps each order's last
    version and selects the canonical columns.
-#}
{% macro stage_orders(source_relation, store_platform, fields, prepared={}) -%}
with

source as (

    select * from {{ source_relation }}

),

store_timezones as (

    {{ store_timezones(store_platform) }}

),

located as (

    select
        source.*,
        coalesce(store_timezones.timezone, 'UTC') as store_timezone

    from source
    left join store_timezones
        on
            source.workspace_id = store_timezones.workspace_id
            and source.account_id = store_timezones.store_id

),

prepared as (

    select
        {%- for name, expression in prepared.items() %}
        {{ expression }} as {{ name }},
        {%- endfor %}
        located.*

    from located

),

renamed as (

    select
        workspace_id,
        '{{ store_platform }}' as store_platform,
        account_id as store_id,
        {%- for name, expression in fields.items() %}
        {{ expression if expression == name else expression ~ ' as ' ~ name }},
        {%- endfor %}
        sync_run_id,
        extracted_at

    from prepared

),

{{ latest_order_version('renamed') }}

select * from final
{%- endmacro %}

{#-
    The last version of each order: a store re-sends an order after every
    update (payment, refund, cancellation), so the raw table can hold it
    several times. Keeps the row with the latest `updated_at`, then the latest
    `extracted_at`, per (workspace, store, order id), and selects the
    canonical order columns from the CTE `relation`.
-#}
{% macro latest_order_version(relation) -%}
    ranked as (

        select
            *,
            row_number() over (
                partition by workspace_id, store_id, order_id
                order by updated_at desc nulls last, extracted_at desc, sync_run_id desc
            ) as version_rank

        from {{ relation }}

    ),

    final as (

        select
            order_id,
            workspace_id,
            store_platform,
            store_id,
            order_name,
            ordered_at,
            order_date,
            updated_at,
            currency,
            gross_revenue,
            refunded_amount,
            case when is_cancelled then 0 else gross_revenue - refunded_amount end as net_revenue,
            refunded_amount > 0 as is_refunded,
            is_cancelled,
            status,
            utm_source,
            utm_medium,
            utm_campaign,
            utm_content,
            utm_term,
            click_at,
            landing_page,
            referrer_url,
            extracted_at

        from ranked
        where version_rank = 1

    )
{%- endmacro %}


{#- The store time zones from the registry (platform = the store platform, account_id = store id). -#}
{% macro store_timezones(store_platform) -%}
    select
        workspace_id,
        account_id as store_id,
        timezone

    from {{ ref('stg_ops__workspace_accounts') }}
    where platform = '{{ store_platform }}'
{%- endmacro %}


{#-
    A 'YYYY-MM-DD HH:MM:SS[.ffffff]' wall-clock string in a time zone, as a
    UTC timestamptz; a string that carries its own offset ('Z', '+03:00')
    keeps it.
-#}
{% macro local_text_to_utc(text_expression, timezone_expression) -%}
    (
        case
            when {{ text_expression }} ~ '(Z|[+-][0-9]{2}:?[0-9]{2})$' then cast({{ text_expression }} as timestamptz)
            else cast({{ text_expression }} as timestamp) at time zone {{ timezone_expression }}
        end
    )
{%- endmacro %}


{#- A text value as a number that may be sent as a string or a JSON number; null when empty. -#}
{% macro amount(text_expression) -%}
    cast(nullif(trim({{ text_expression }}), '') as numeric)
{%- endmacro %}


{#-
    URL decoding (`%XX` escapes, `+` as a space) that never raises: null when
    the encoding is malformed (a `%` not followed by two hex digits, or bytes
    that are not UTF-8). The function is created by the project's
    `on-run-start` hook (`create_url_decode_function`).
-#}
{% macro url_decode(expression) -%}
    {{ adapter.quote(var('udf_schema')) }}.url_decode_or_null_v1({{ expression }})
{%- endmacro %}

{% macro create_url_decode_function() -%}
    {#-
        Created only when missing, so it is safe when several dbt processes
        start at once (one per model in the DAG) and whoever created it first
        stays its owner. To change the body, give it a new version suffix
        (and update `url_decode`), never replace it in place.
    -#}
    {%- set function = adapter.quote(var('udf_schema')) ~ '.url_decode_or_null_v1' -%}
    do $do$
    begin
        begin
            create schema if not exists {{ adapter.quote(var('udf_schema')) }};
        exception
            when unique_violation or duplicate_schema then
                null;
        end;
        if to_regprocedure('{{ function | replace("'", "''") }}(text)') is not null then
            return;
        end if;
        create function {{ function }}(encoded text)
        returns text
        language plpgsql
        immutable
        strict
        parallel safe
        as $fn$
        declare
            decoded bytea := ''::bytea;
            offset_at integer := 1;
            total integer := length(encoded);
            current_char text;
        begin
            while offset_at <= total loop
                current_char := substr(encoded, offset_at, 1);
                if current_char = '%' then
                    if substr(encoded, offset_at + 1, 2) !~ '^[0-9A-Fa-f]{2}$' then
                        return null;
                    end if;
                    decoded := decoded || decode(substr(encoded, offset_at + 1, 2), 'hex');
                    offset_at := offset_at + 3;
                elsif current_char = '+' then
                    decoded := decoded || '\x20'::bytea;
                    offset_at := offset_at + 1;
                else
                    decoded := decoded || convert_to(current_char, 'UTF8');
                    offset_at := offset_at + 1;
                end if;
            end loop;
            return convert_from(decoded, 'UTF8');
        exception
            when character_not_in_repertoire or untranslatable_character then
                return null;
        end;
        $fn$;
    exception
        -- Another dbt process created it at the same moment: the function exists.
        when unique_violation or duplicate_function or internal_error then
            null;
    end
    $do$;
{%- endmacro %}


{#- A UTM value or campaign name for matching: lower case, whitespace runs as one space, trimmed; null when empty. -#}
{% macro normalise_utm(expression) -%}
    nullif(btrim(lower(regexp_replace({{ expression }}, '\s+', ' ', 'g')), ' '), '')
{%- endmacro %}


{#- The `value` of the first WooCommerce `meta_data` entry with this `key`; null when absent. -#}
{% macro woocommerce_meta_value(column, key) -%}
    (
        select meta ->> 'value'
        from jsonb_array_elements(
            case
                when jsonb_typeof({{ column }} -> 'meta_data') = 'array' then {{ column }} -> 'meta_data'
                else '[]'::jsonb
            end
        ) as meta
        where meta ->> 'key' = '{{ key }}'
        limit 1
    )
{%- endmacro %}


{#-
    Refund and cancellation of the stores that send a status and a refunded
    total (Salla, Zid), as `stage_orders` fields: `refunded_amount` is the
    refunded total when it is given and positive, else the whole total when
    the status is a refunded one; `is_cancelled` is a cancelled status.
-#}
{% macro refund_from_status(status_column, total_expression, refunded_expression, refunded_statuses, cancelled_statuses) -%}
    {{ return({
        'refunded_amount': 'case'
            ~ ' when coalesce(' ~ amount(refunded_expression) ~ ', 0) > 0 then ' ~ amount(refunded_expression)
            ~ " when " ~ status_column ~ " in ('" ~ refunded_statuses | join("', '") ~ "')"
            ~ ' then coalesce(' ~ amount(total_expression) ~ ', 0)'
            ~ ' else 0 end',
        'is_cancelled': status_column ~ " in ('" ~ cancelled_statuses | join("', '") ~ "')",
    }) }}
{%- endmacro %}


{#- One text field per `name: [json, path]` entry, e.g. the UTM paths of a store (name -> expression). -#}
{% macro json_text_fields(column, paths) -%}
    {%- set fields = {} -%}
    {%- for name, path in paths.items() -%}
        {%- do fields.update({name: json_text(column, *path)}) -%}
    {%- endfor -%}
    {{ return(fields) }}
{%- endmacro %}
