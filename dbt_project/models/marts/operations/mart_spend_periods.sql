-- One row per period (a reporting day, or an ISO week from Monday) x platform x campaign,
-- and per period x platform (level 'platform', campaign_id 'all'): mart_spend_daily summed
-- over the period, with its ratios over the sums and the previous period's spend (NULL when
-- the campaign had no row in the period before).
with

period_units as (

    {{ reporting_period_units() }}

),

spend as (

    select * from {{ ref('mart_spend_daily') }}

),

dated as (

    select
        period_units.period_unit,
        {{ reporting_period_start('period_units.period_unit', 'spend.report_date') }} as period_start,
        spend.platform,
        spend.campaign_id,
        spend.campaign_name,
        spend.spend,
        spend.impressions,
        spend.clicks,
        spend.installs,
        spend.signups,
        spend.payers,
        spend.revenue_d7,
        spend.revenue_to_date
    from spend
    cross join period_units

),

summed as (

    select
        period_unit,
        period_start,
        'campaign' as level,
        platform,
        campaign_id,
        max(campaign_name) as campaign_name,
        sum(spend) as spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(installs) as installs,
        sum(signups) as signups,
        sum(payers) as payers,
        sum(revenue_d7) as revenue_d7,
        sum(revenue_to_date) as revenue_to_date
    from dated
    group by period_unit, period_start, platform, campaign_id
    union all
    select
        period_unit,
        period_start,
        'platform' as level,
        platform,
        'all' as campaign_id,
        'all' as campaign_name,
        sum(spend) as spend,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(installs) as installs,
        sum(signups) as signups,
        sum(payers) as payers,
        sum(revenue_d7) as revenue_d7,
        sum(revenue_to_date) as revenue_to_date
    from dated
    group by period_unit, period_start, platform

),

final as (

    select
        summed.period_unit,
        summed.period_start,
        summed.level,
        summed.platform,
        summed.campaign_id,
        summed.campaign_name,
        cast(summed.spend as decimal(18, 6)) as spend,
        cast(summed.impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(summed.clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(summed.installs as {{ dbt.type_bigint() }}) as installs,
        cast(summed.signups as {{ dbt.type_bigint() }}) as signups,
        cast(summed.payers as {{ dbt.type_bigint() }}) as payers,
        cast(summed.revenue_d7 as decimal(18, 6)) as revenue_d7,
        cast(summed.revenue_to_date as decimal(18, 6)) as revenue_to_date,
        {{ safe_divide('summed.spend', 'summed.installs') }} as cpi,
        {{ safe_divide('summed.spend', 'summed.signups') }} as cpa,
        {{ safe_divide('summed.spend', 'summed.payers') }} as cac,
        {{ safe_divide('summed.revenue_d7', 'summed.spend') }} as roas_d7,
        {{ safe_divide('summed.revenue_to_date', 'summed.spend') }} as roas_to_date,
        cast(previous.spend as decimal(18, 6)) as previous_spend
    from summed
    left join summed as previous
        on summed.period_unit = previous.period_unit
        and summed.level = previous.level
        and summed.platform = previous.platform
        and summed.campaign_id = previous.campaign_id
        and previous.period_start = cast(case summed.period_unit
            when 'week' then {{ dbt.dateadd('day', -7, 'summed.period_start') }}
            else {{ dbt.dateadd('day', -1, 'summed.period_start') }}
        end as date)

)

select * from final
