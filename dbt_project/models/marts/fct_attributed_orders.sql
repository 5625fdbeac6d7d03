{#-
    Each order with the ad campaign its last click is attributed to, and the
    rule that decided it. One row per order (fct_orders).

    The store records one visit per order (its last one: Shopify's
    `lastVisit`, WooCommerce's and Salla's / Zid's order attribution), so
    last-click attribution reads that visit's UTMs. utm_source and
    utm_campaign are URL-decoded (`%XX`, `+` as a space), lower-cased,
    trimmed and inner whitespace collapsed before matching. Rules, first
    that applies:

      malformed_utm       utm_source is not valid URL encoding, or utm_campaign
                          is not and does not name a campaign as it stands
                          either (a store that decoded `1%` already shows it raw)
      organic             no utm_source and no utm_campaign
      campaign_id         no utm_source, and utm_campaign equals the id of
                          exactly one campaign of any platform in the workspace
                          (ids are unique enough to name the platform)
      unknown_source      utm_source is absent or not in the utm_source_platforms seed
      missing_campaign    utm_source names a platform, utm_campaign is absent
      campaign_id         utm_campaign equals a campaign id of that platform in
                          the workspace (exactly, after decoding and trimming)
      campaign_name       utm_campaign equals the normalised name of exactly one
                          campaign of that platform in the workspace (any name
                          the campaign had); tried in turn: decoded; decoded
                          with a remaining `+` as a space (a link encoded
                          twice: `%2B` for a space); as the store shows it
                          (also with `+` as a space), when it is not valid URL
                          encoding
      ambiguous_campaign  the id or the name matches several campaigns: none is
                          picked
      unmatched_campaign  no campaign of that platform has that id or name
      outside_window      a campaign matched, but the click (the order time when
                          the store gives no click time) is more than the window
                          before the order, or the campaign delivered no
                          impressions on any day from the order date minus the
                          window to the order date

    The window is the workspace's `attribution_window_days` in
    ops.workspace_settings (a whole number of days; anything else is
    ignored), else var `attribution_window_days` (7). `platform`, `account_id` and
    `campaign_id` are set only for `campaign_id` and `campaign_name`; the
    matched campaign of the other rules is kept in `candidate_*` columns.
-#}
{{
    config(
        indexes=[
            {'columns': ['order_date']},
            {'columns': ['workspace_id', 'platform', 'order_date']},
            {'columns': ['order_key'], 'unique': True},
        ],
    )
}}

with

fct_orders as (

    select * from {{ ref('fct_orders') }}

),

fct_ad_performance_daily as (

    select * from {{ ref('fct_ad_performance_daily') }}

),

utm_source_platforms as (

    select * from {{ ref('utm_source_platforms') }}

),

stg_ops__workspace_settings as (

    select * from {{ ref('stg_ops__workspace_settings') }}

),

window_settings as (

    select
        workspace_id,
        cast(setting_value as integer) as attribution_window_days

    from stg_ops__workspace_settings
    where
        setting = 'attribution_window_days'
        and setting_value ~ '^[0-9]{1,4}$'

),

decoded as (

    select
        orders.*,
        nullif(btrim(orders.utm_source), '') as utm_source_given,
        nullif(btrim(orders.utm_campaign), '') as utm_campaign_given,
        {{ url_decode('orders.utm_source') }} as utm_source_decoded,
        {{ url_decode('orders.utm_campaign') }} as utm_campaign_decoded,
        coalesce(window_settings.attribution_window_days, {{ var('attribution_window_days') }}) as attribution_window_days

    from fct_orders as orders
    left join window_settings
        on orders.workspace_id = window_settings.workspace_id

),

normalised as (

    select
        *,
        utm_source_given is not null and utm_source_decoded is null as is_malformed_source,
        utm_campaign_given is not null and utm_campaign_decoded is null as is_malformed_campaign,
        {{ normalise_utm('utm_source_decoded') }} as utm_source_normalised,
        {{ normalise_utm('utm_campaign_decoded') }} as utm_campaign_normalised,
        {{ normalise_utm("replace(utm_campaign_decoded, '+', ' ')") }} as utm_campaign_plus_normalised,
        {{ normalise_utm('utm_campaign_given') }} as utm_campaign_raw_normalised,
        {{ normalise_utm("replace(utm_campaign_given, '+', ' ')") }} as utm_campaign_raw_plus_normalised,
        nullif(btrim(utm_campaign_decoded), '') as utm_campaign_id

    from decoded

),

with_platform as (

    select
        normalised.*,
        utm_source_platforms.platform as utm_platform

    from normalised
    left join utm_source_platforms
        on normalised.utm_source_normalised = utm_source_platforms.utm_source

),

campaign_keys as (

    -- Every campaign once under its id and once under each normalised name it had.
    select distinct
        workspace_id,
        platform,
        account_id,
        campaign_id,
        'id' as match_kind,
        campaign_id as match_value

    from fct_ad_performance_daily

    union

    -- Under its normalised name, and a name with a '+' of its own ("Advantage+ Shopping") also under
    -- its '+'-as-space form: the way most stores and URL decoders hand it back.
    select distinct
        performance.workspace_id,
        performance.platform,
        performance.account_id,
        performance.campaign_id,
        'name' as match_kind,
        names.match_value

    from fct_ad_performance_daily as performance
    cross join lateral (
        values
            ({{ normalise_utm('performance.campaign_name') }}),
            ({{ normalise_utm("replace(performance.campaign_name, '+', ' ')") }})
    ) as names (match_value)

),

order_keys as (

    select order_key, workspace_id, utm_platform, utm_source_normalised is null as is_sourceless, 'id' as match_kind, utm_campaign_id as match_value
    from with_platform

    union all

    select order_key, workspace_id, utm_platform, false as is_sourceless, 'name' as match_kind, utm_campaign_normalised as match_value
    from with_platform

    union all

    select order_key, workspace_id, utm_platform, false as is_sourceless, 'name_plus' as match_kind, utm_campaign_plus_normalised as match_value
    from with_platform

    union all

    -- the value as the store shows it: only when it is not valid URL encoding (a store that decoded it already)
    select order_key, workspace_id, utm_platform, false as is_sourceless, 'name_raw' as match_kind, utm_campaign_raw_normalised as match_value
    from with_platform
    where is_malformed_campaign

    union all

    select order_key, workspace_id, utm_platform, false as is_sourceless, 'name_raw' as match_kind, utm_campaign_raw_plus_normalised as match_value
    from with_platform
    where is_malformed_campaign

),

campaign_matches as (

    -- Per order and kind: how many campaigns of the source's platform match
    -- (of any platform for a campaign id without a source), and which when one does.
    select
        order_keys.order_key,
        order_keys.match_kind,
        count(distinct campaign_keys.platform || '/' || campaign_keys.account_id || '/' || campaign_keys.campaign_id) as campaigns,
        min(campaign_keys.platform) as platform,
        min(campaign_keys.account_id) as account_id,
        min(campaign_keys.campaign_id) as campaign_id

    from order_keys
    inner join campaign_keys
        on
            order_keys.workspace_id = campaign_keys.workspace_id
            and (order_keys.utm_platform = campaign_keys.platform or order_keys.is_sourceless)
            and case when order_keys.match_kind = 'id' then 'id' else 'name' end = campaign_keys.match_kind
            and order_keys.match_value = campaign_keys.match_value
    group by order_keys.order_key, order_keys.match_kind

),

matched as (

    select
        orders.*,
        case
            when orders.is_malformed_source then 'malformed_utm'
            when orders.is_malformed_campaign and raw_matches.campaigns is null then 'malformed_utm'
            when
                orders.utm_source_normalised is null and orders.utm_campaign_normalised is null
                and not orders.is_malformed_campaign
                then 'organic'
            when orders.utm_source_normalised is null and id_matches.campaigns = 1 then 'campaign_id'
            when orders.utm_platform is null then 'unknown_source'
            when orders.utm_campaign_normalised is null and not orders.is_malformed_campaign then 'missing_campaign'
            when id_matches.campaigns = 1 then 'campaign_id'
            when id_matches.campaigns > 1 then 'ambiguous_campaign'
            when coalesce(name_matches.campaigns, plus_matches.campaigns, raw_matches.campaigns) = 1 then 'campaign_name'
            when coalesce(name_matches.campaigns, plus_matches.campaigns, raw_matches.campaigns) > 1 then 'ambiguous_campaign'
            else 'unmatched_campaign'
        end as match_rule,
        case
            when id_matches.campaigns = 1 then id_matches.platform
            when id_matches.campaigns is null then
                case coalesce(name_matches.campaigns, plus_matches.campaigns, raw_matches.campaigns)
                    when 1 then coalesce(name_matches.platform, plus_matches.platform, raw_matches.platform)
                end
        end as candidate_platform,
        case
            when id_matches.campaigns = 1 then id_matches.account_id
            when id_matches.campaigns is null then
                case coalesce(name_matches.campaigns, plus_matches.campaigns, raw_matches.campaigns)
                    when 1 then coalesce(name_matches.account_id, plus_matches.account_id, raw_matches.account_id)
                end
        end as candidate_account_id,
        case
            when id_matches.campaigns = 1 then id_matches.campaign_id
            when id_matches.campaigns is null then
                case coalesce(name_matches.campaigns, plus_matches.campaigns, raw_matches.campaigns)
                    when 1 then coalesce(name_matches.campaign_id, plus_matches.campaign_id, raw_matches.campaign_id)
                end
        end as candidate_campaign_id,
        coalesce(orders.click_at, orders.ordered_at) as touch_at

    from with_platform as orders
    left join campaign_matches as id_matches
        on
            orders.order_key = id_matches.order_key
            and id_matches.match_kind = 'id'
    left join campaign_matches as name_matches
        on
            orders.order_key = name_matches.order_key
            and name_matches.match_kind = 'name'
    left join campaign_matches as plus_matches
        on
            orders.order_key = plus_matches.order_key
            and plus_matches.match_kind = 'name_plus'
    left join campaign_matches as raw_matches
        on
            orders.order_key = raw_matches.order_key
            and raw_matches.match_kind = 'name_raw'

),

delivery as (

    select
        matched.order_key,
        max(performance.date_day) as last_delivery_date

    from matched
    inner join fct_ad_performance_daily as performance
        on
            matched.workspace_id = performance.workspace_id
            and matched.candidate_platform = performance.platform
            and matched.candidate_account_id = performance.account_id
            and matched.candidate_campaign_id = performance.campaign_id
            and performance.date_day between matched.order_date - matched.attribution_window_days and matched.order_date
    where
        matched.match_rule in ('campaign_id', 'campaign_name')
        and performance.impressions > 0
    group by matched.order_key

),

ruled as (

    select
        matched.*,
        delivery.last_delivery_date,
        case
            when
                matched.match_rule in ('campaign_id', 'campaign_name')
                and not (
                    matched.touch_at <= matched.ordered_at
                    and matched.touch_at >= matched.ordered_at - make_interval(days => matched.attribution_window_days)
                    and delivery.last_delivery_date is not null
                )
                then 'outside_window'
            else matched.match_rule
        end as attribution_rule

    from matched
    left join delivery
        on matched.order_key = delivery.order_key

),

final as (

    select
        order_key,
        order_id,
        workspace_id,
        store_platform,
        store_id,
        ordered_at,
        order_date,
        currency,
        reporting_currency,
        fx_status,
        revenue,
        revenue_reporting,
        utm_source,
        utm_campaign,
        utm_source_normalised,
        utm_campaign_normalised,
        utm_platform,
        touch_at,
        attribution_window_days,
        attribution_rule,
        attribution_rule in ('campaign_id', 'campaign_name') as is_attributed,
        case when attribution_rule in ('campaign_id', 'campaign_name') then candidate_platform end as platform,
        case when attribution_rule in ('campaign_id', 'campaign_name') then candidate_account_id end as account_id,
        case when attribution_rule in ('campaign_id', 'campaign_name') then candidate_campaign_id end as campaign_id,
        candidate_platform,
        candidate_account_id,
        candidate_campaign_id,
        last_delivery_date

    from ruled

)

select * from final
