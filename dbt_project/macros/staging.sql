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
