with

source as (

    select * from {{ source('ops', 'planned_changes') }}

),

final as (

    select
        workspace_id,
        change_id,
        kind,
        platform,
        campaign_id,
        cast(start_date as date) as start_date,
        cast(end_date as date) as end_date,
        cast(settle_days as integer) as settle_days,
        note

    from source

)

select * from final
