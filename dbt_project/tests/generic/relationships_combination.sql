{#-
    Fails for every row whose combination of `columns` has no match in `to`
    (the same column names on both sides). Rows with a null in any of the
    columns are not checked (as in `relationships`).
-#}
{% test relationships_combination(model, to, columns) %}

    with

    child as (

        select distinct
            {{ columns | join(',\n            ') }}

        from {{ model }}
        where
            {% for column in columns -%}
            {{ column }} is not null{% if not loop.last %} and {% endif %}
            {%- endfor %}

    ),

    parent as (

        select distinct
            {{ columns | join(',\n            ') }}

        from {{ to }}

    )

    select child.*

    from child
    left join parent
        on
            {% for column in columns -%}
            child.{{ column }} = parent.{{ column }}{% if not loop.last %} and {% endif %}
            {%- endfor %}
    where parent.{{ columns[0] }} is null

{% endtest %}
