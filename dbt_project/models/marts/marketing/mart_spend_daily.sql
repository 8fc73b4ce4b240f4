-- One row per report date x platform x campaign: delivery, spend and what it brought.
with

spend as (

    select * from {{ ref('int_spend_converted') }}

),

persons as (

    select * from {{ ref('int_persons') }}
    where acquisition_platform is not null

),

-- every day a campaign spent or brought someone: attributed users are never dropped
grain as (

    select
        report_date,
        platform,
        campaign_id
    from spend
    union
    select
        acquisition_date,
        acquisition_platform,
        acquisition_campaign_id
    from persons

),

campaigns as (

    select
        platform,
        campaign_id,
        max(account_id) as account_id,
        max(campaign_name) as campaign_name,
        max(account_currency) as account_currency
    from spend
    group by platform, campaign_id

),

spend_daily as (

    select
        report_date,
        platform,
        campaign_id,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(spend_account_currency) as spend_account_currency,
        sum(spend) as spend,
        -- summed as decimals: a float sum depends on the order rows arrive in
        sum(cast(platform_conversions as decimal(18, 4))) as platform_conversions
    from spend
    group by report_date, platform, campaign_id

),

acquired as (

    select
        acquisition_date as report_date,
        acquisition_platform as platform,
        acquisition_campaign_id as campaign_id,
        count(*) as installs,
        count(signed_up_at) as signups,
        count(activated_at) as activated_users,
        sum(case when is_payer then 1 else 0 end) as payers,
        sum(revenue_d7) as revenue_d7,
        sum(revenue_d30) as revenue_d30,
        sum(revenue_to_date) as revenue_to_date
    from persons
    group by acquisition_date, acquisition_platform, acquisition_campaign_id

),

-- cumulative cohort revenue by day N since each person's touch (24-hour blocks, as the
-- cohort value curves), for payback days
cohort_orders as (

    select
        persons.acquisition_date as report_date,
        persons.acquisition_platform as platform,
        persons.acquisition_campaign_id as campaign_id,
        {{ days_since_touch('persons.acquired_at', 'events.event_at') }} as days_since_acquisition,
        sum(events.revenue) as revenue
    from persons
    inner join {{ ref('int_person_events') }} as events
        on persons.person_key = events.person_key
        and events.event_name = '{{ var("order_event") }}'
    group by
        persons.acquisition_date,
        persons.acquisition_platform,
        persons.acquisition_campaign_id,
        {{ days_since_touch('persons.acquired_at', 'events.event_at') }}

),

cohort_cumulative as (

    select
        cohort_orders.*,
        sum(cohort_orders.revenue) over (
            partition by cohort_orders.report_date, cohort_orders.platform, cohort_orders.campaign_id
            order by cohort_orders.days_since_acquisition
            rows unbounded preceding
        ) as cumulative_revenue
    from cohort_orders

),

payback as (

    select
        cohort_cumulative.report_date,
        cohort_cumulative.platform,
        cohort_cumulative.campaign_id,
        min(cohort_cumulative.days_since_acquisition) as payback_days
    from cohort_cumulative
    inner join spend_daily
        on cohort_cumulative.report_date = spend_daily.report_date
        and cohort_cumulative.platform = spend_daily.platform
        and cohort_cumulative.campaign_id = spend_daily.campaign_id
    where spend_daily.spend > 0 and cohort_cumulative.cumulative_revenue >= spend_daily.spend
    group by cohort_cumulative.report_date, cohort_cumulative.platform, cohort_cumulative.campaign_id

),

final as (

    select
        grain.report_date,
        grain.platform,
        campaigns.account_id,
        grain.campaign_id,
        campaigns.campaign_name,
        campaigns.account_currency,
        cast(coalesce(spend_daily.impressions, 0) as bigint) as impressions,
        cast(coalesce(spend_daily.clicks, 0) as bigint) as clicks,
        cast(coalesce(spend_daily.spend_account_currency, 0) as decimal(18, 6)) as spend_account_currency,
        cast(coalesce(spend_daily.spend, 0) as decimal(18, 6)) as spend,
        {{ safe_divide('spend_daily.clicks', 'spend_daily.impressions') }} as ctr,
        {{ safe_divide('spend_daily.spend', 'spend_daily.clicks') }} as cpc,
        cast(spend_daily.platform_conversions as double) as platform_conversions,
        cast(coalesce(acquired.installs, 0) as bigint) as installs,
        cast(coalesce(acquired.signups, 0) as bigint) as signups,
        cast(coalesce(acquired.activated_users, 0) as bigint) as activated_users,
        cast(coalesce(acquired.payers, 0) as bigint) as payers,
        cast(coalesce(acquired.revenue_d7, 0) as decimal(18, 6)) as revenue_d7,
        cast(coalesce(acquired.revenue_d30, 0) as decimal(18, 6)) as revenue_d30,
        cast(coalesce(acquired.revenue_to_date, 0) as decimal(18, 6)) as revenue_to_date,
        {{ safe_divide('spend_daily.spend', 'acquired.installs') }} as cpi,
        {{ safe_divide('spend_daily.spend', 'acquired.signups') }} as cpa,
        {{ safe_divide('spend_daily.spend', 'acquired.payers') }} as cac,
        {{ safe_divide('acquired.revenue_d7', 'spend_daily.spend') }} as roas_d7,
        {{ safe_divide('acquired.revenue_d30', 'spend_daily.spend') }} as roas_d30,
        {{ safe_divide('acquired.revenue_to_date', 'spend_daily.spend') }} as roas_to_date,
        {{ safe_divide('acquired.revenue_to_date', 'acquired.payers') }} as ltv_to_date,
        {{ safe_divide(safe_divide('acquired.revenue_to_date', 'acquired.payers'),
                       safe_divide('spend_daily.spend', 'acquired.payers')) }} as ltv_to_cac,
        cast(payback.payback_days as integer) as payback_days
    from grain
    left join campaigns
        on grain.platform = campaigns.platform
        and grain.campaign_id = campaigns.campaign_id
    left join spend_daily
        on grain.report_date = spend_daily.report_date
        and grain.platform = spend_daily.platform
        and grain.campaign_id = spend_daily.campaign_id
    left join acquired
        on grain.report_date = acquired.report_date
        and grain.platform = acquired.platform
        and grain.campaign_id = acquired.campaign_id
    left join payback
        on grain.report_date = payback.report_date
        and grain.platform = payback.platform
        and grain.campaign_id = payback.campaign_id

)

select * from final
