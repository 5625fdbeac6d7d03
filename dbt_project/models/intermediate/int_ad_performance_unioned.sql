{#-
    Every platform's campaign-day rows (the `campaign_day` models of var
    `ad_performance_models`) in the canonical columns, with the
    account's currency (when the payload has none) and the workspace's
    reporting currency from the account registry. Unregistered accounts keep
    their rows with a null reporting currency, which fails the marts' tests
    rather than dropping spend silently. Campaign names missing from a
    platform's report (Snapchat, LinkedIn) and LinkedIn's campaign group come
    from the campaign lists (`int_campaigns_unioned`); a campaign not in its
    list keeps a null name rather than losing its rows.
-#}

{%- set platform_models = ad_performance_models('campaign_day') -%}
{%- set canonical_columns = [
    'date_day', 'workspace_id', 'platform', 'account_id', 'campaign_id', 'campaign_name', 'currency',
    'impressions', 'clicks', 'spend', 'conversions', 'conversion_value',
] -%}

with

{{ union_models_ctes(platform_models, canonical_columns) }},

stg_ops__workspace_accounts as (

    select * from {{ ref('stg_ops__workspace_accounts') }}

),

int_campaigns_unioned as (

    select * from {{ ref('int_campaigns_unioned') }}

),

with_account_currency as (

    select
        unioned.date_day,
        unioned.workspace_id,
        unioned.platform,
        unioned.account_id,
        unioned.campaign_id,
        coalesce(unioned.campaign_name, campaigns.campaign_name) as campaign_name,
        campaigns.campaign_group_id,
        campaigns.campaign_group_name,
        coalesce(unioned.currency, accounts.currency) as currency,
        accounts.reporting_currency,
        accounts.is_active,
        unioned.impressions,
        unioned.clicks,
        unioned.spend,
        unioned.conversions,
        unioned.conversion_value

    from unioned
    left join stg_ops__workspace_accounts as accounts
        on
            unioned.workspace_id = accounts.workspace_id
            and unioned.platform = accounts.platform
            and unioned.account_id = accounts.account_id
    left join int_campaigns_unioned as campaigns
        on
            unioned.workspace_id = campaigns.workspace_id
            and unioned.platform = campaigns.platform
            and unioned.account_id = campaigns.account_id
            and unioned.campaign_id = campaigns.campaign_id

),

final as (

    select * from with_account_currency

)

select * from final
