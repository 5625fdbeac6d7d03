{#- One row per day over the FX spine's range: MetricFlow's time spine (models/marts/_semantic.yml). -#}
{{ config(materialized='table', tags=['rollup']) }}

select cast(day as date) as date_day
from generate_series(
    cast('{{ var("fx_spine_start") }}' as date),
    cast('{{ var("fx_spine_end") }}' as date),
    interval '1 day'
) as day
