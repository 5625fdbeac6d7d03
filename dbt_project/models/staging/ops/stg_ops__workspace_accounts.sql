with

source as (

    select * from {{ source('ops', 'workspace_accounts') }}

),

final as (

    select
        workspace_id,
        platform,
        account_id,
        account_name,
        upper(currency) as currency,
        timezone,
        upper(reporting_currency) as reporting_currency,
        coalesce(active, true) as is_active,
        deactivated_at

    from source

)

select * from final
