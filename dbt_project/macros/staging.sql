{#-
    The latest extraction of each entity in a staging CTE: overlapping
    extraction windows (or repeated entity lists) can load the same record
    more than once, and the latest is the platform's current answer. Keeps
    every column of `cte` plus `extraction_rank` (always 1).

        deduplicated as ({{ latest_extraction('parsed', ['workspace_id', 'account_id', 'campaign_id']) }}),
-#}
{% macro latest_extraction(cte, key_columns) -%}
    select *
    from (
        select
            *,
            row_number() over (
                partition by {{ key_columns | join(', ') }}
                order by extracted_at desc, sync_run_id desc
            ) as extraction_rank

        from {{ cte }}
    ) as ranked
    where extraction_rank = 1
{%- endmacro %}
