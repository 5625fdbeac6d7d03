-- Meta reports each row's account currency; the account registry states the
-- currency too. They should agree: a mismatch means the registry is wrong
-- (the fact trusts the payload). Warns with one row per account and currency.
{{ config(severity='warn') }}

with

stg_meta__insights as (

    select * from {{ ref('stg_meta__insights') }}

),

stg_ops__workspace_accounts as (

    select * from {{ ref('stg_ops__workspace_accounts') }}

),

final as (

    select distinct
        stg_meta__insights.workspace_id,
        stg_meta__insights.account_id,
        stg_meta__insights.currency as payload_currency,
        stg_ops__workspace_accounts.currency as registry_currency

    from stg_meta__insights
    inner join stg_ops__workspace_accounts
        on
            stg_meta__insights.workspace_id = stg_ops__workspace_accounts.workspace_id
            and stg_meta__insights.platform = stg_ops__workspace_accounts.platform
            and stg_meta__insights.account_id = stg_ops__workspace_accounts.account_id
    where stg_meta__insights.currency <> stg_ops__workspace_accounts.currency

)

select * from final
