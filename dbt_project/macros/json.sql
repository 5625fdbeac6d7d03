{#-
    JSON access for the raw payloads. The payload column is Postgres jsonb;
    other warehouses get their own implementation here.
-#}

{#- The text at a key path, e.g. json_text('payload', 'metrics', 'costMicros'); null when absent. -#}
{% macro json_text(column) -%}
    {{ return(adapter.dispatch('json_text', 'ads_elt')(column, varargs)) }}
{%- endmacro %}

{% macro postgres__json_text(column, path) -%}
    ({{ column }} #>> '{ {{- path | join(',') -}} }')
{%- endmacro %}

{#- A date sent as an object of numbers {"year": ..., "month": ..., "day": ...} at a key path. -#}
{% macro json_date_from_parts(column) -%}
        make_date(
            cast({{ json_text(column, *(varargs + ('year',))) }} as integer),
            cast({{ json_text(column, *(varargs + ('month',))) }} as integer),
            cast({{ json_text(column, *(varargs + ('day',))) }} as integer)
        )
{%- endmacro %}

{#-
    The numeric value of one action type in a Meta `actions`-style array
    ([{"action_type": ..., "value": "<string>"}, ...]); null when the array or
    the type is absent. Only the exact type given counts.
-#}
{% macro json_action_value(column, array_key, action_type) -%}
    {{ return(adapter.dispatch('json_action_value', 'ads_elt')(column, array_key, action_type)) }}
{%- endmacro %}

{% macro postgres__json_action_value(column, array_key, action_type) -%}
    (
        select sum(cast(action ->> 'value' as numeric))
        from jsonb_array_elements(
            case
                when jsonb_typeof({{ column }} -> '{{ array_key }}') = 'array'
                    then {{ column }} -> '{{ array_key }}'
                else '[]'::jsonb
            end
        ) as action
        where action ->> 'action_type' = '{{ action_type | replace("'", "''") }}'
    )
{%- endmacro %}
