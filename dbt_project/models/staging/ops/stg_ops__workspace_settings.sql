with

source as (

    select * from {{ source('ops', 'workspace_settings') }}

),

final as (

    select
        workspace_id,
        lower(trim(setting)) as setting,
        trim(value) as setting_value

    from source

)

select * from final
