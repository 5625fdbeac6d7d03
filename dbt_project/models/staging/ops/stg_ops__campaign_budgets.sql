with

source as (

    select * from {{ source('ops', 'campaign_budgets') }}

),

final as (

    select
        workspace_id,
        platform,
        campaign_id,
        cast(monthly_budget as {{ dbt.type_float() }}) as monthly_budget

    from source

)

select * from final
