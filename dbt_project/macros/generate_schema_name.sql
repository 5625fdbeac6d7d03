{#-
    Custom schemas are used as-is: a model configured with `schema: marts`
    lands in `marts`, not `<target schema>_marts`. Models without a custom
    schema land in the target schema.
-#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}
        {{ target.schema }}
    {%- else -%}
        {{ custom_schema_name | trim }}
    {%- endif -%}
{%- endmacro %}
