-- One row per conversion date × attribution model × channel × platform × campaign × ad
-- group × keyword × content: what each model credits to each touch point, beside what the
-- ad unit spent that day (README "Attribution models").
with

credits as (

    select * from {{ ref('int_attribution_credits') }}

),

spend as (

    select * from {{ ref('int_spend_converted') }}

),

models as (

    select distinct attribution_model from credits

),

credited as (

    select
        conversion_date as report_date,
        attribution_model,
        channel,
        coalesce(platform, '') as platform,
        coalesce(campaign_id, '') as campaign_id,
        coalesce(ad_group_id, '') as ad_group_id,
        coalesce(keyword_id, '') as keyword_id,
        coalesce(content_id, '') as content_id,
        -- summed as decimals: a float sum depends on the order rows arrive in
        sum(case when conversion_type = 'signup' then cast(credit as decimal(18, 9)) else 0 end)
            as credited_signups,
        sum(case when conversion_type = 'order' then cast(credit as decimal(18, 9)) else 0 end)
            as credited_orders,
        sum(cast(credited_revenue as decimal(18, 6))) as credited_revenue
    from credits
    group by 1, 2, 3, 4, 5, 6, 7, 8

),

unit_spend as (

    -- the ad unit's day, in every model (spend is not credited, it is what the unit cost)
    select
        spend.report_date,
        models.attribution_model,
        spend.platform,
        spend.campaign_id,
        coalesce(spend.ad_group_id, '') as ad_group_id,
        coalesce(spend.keyword_id, '') as keyword_id,
        sum(spend.spend) as spend
    from spend
    cross join models
    group by 1, 2, 3, 4, 5, 6

),

paid_channels as (

    select
        platform,
        max(channel) as channel
    from credits
    where platform is not null
    group by 1

),

joined as (

    select
        coalesce(credited.report_date, unit_spend.report_date) as report_date,
        coalesce(credited.attribution_model, unit_spend.attribution_model) as attribution_model,
        coalesce(credited.channel, paid_channels.channel, 'paid') as channel,
        coalesce(credited.platform, unit_spend.platform) as platform,
        coalesce(credited.campaign_id, unit_spend.campaign_id) as campaign_id,
        coalesce(credited.ad_group_id, unit_spend.ad_group_id) as ad_group_id,
        coalesce(credited.keyword_id, unit_spend.keyword_id) as keyword_id,
        coalesce(credited.content_id, '') as content_id,
        coalesce(credited.credited_signups, 0) as credited_signups,
        coalesce(credited.credited_orders, 0) as credited_orders,
        coalesce(credited.credited_revenue, 0) as credited_revenue,
        coalesce(unit_spend.spend, 0) as spend
    from credited
    full outer join unit_spend
        on credited.report_date = unit_spend.report_date
        and credited.attribution_model = unit_spend.attribution_model
        and credited.platform = unit_spend.platform
        and credited.campaign_id = unit_spend.campaign_id
        and credited.ad_group_id = unit_spend.ad_group_id
        and credited.keyword_id = unit_spend.keyword_id
    left join paid_channels
        on unit_spend.platform = paid_channels.platform

),

final as (

    select
        cast(report_date as date) as report_date,
        cast(attribution_model as {{ dbt.type_string() }}) as attribution_model,
        cast(channel as {{ dbt.type_string() }}) as channel,
        cast(nullif(platform, '') as {{ dbt.type_string() }}) as platform,
        cast(nullif(campaign_id, '') as {{ dbt.type_string() }}) as campaign_id,
        cast(nullif(ad_group_id, '') as {{ dbt.type_string() }}) as ad_group_id,
        cast(nullif(keyword_id, '') as {{ dbt.type_string() }}) as keyword_id,
        cast(nullif(content_id, '') as {{ dbt.type_string() }}) as content_id,
        cast(credited_signups as double) as credited_signups,
        cast(credited_orders as double) as credited_orders,
        cast(credited_revenue as decimal(18, 6)) as credited_revenue,
        cast(spend as decimal(18, 6)) as spend,
        {{ safe_divide('spend', 'credited_signups') }} as cpa,
        {{ safe_divide('credited_revenue', 'spend') }} as roas
    from joined

)

select * from final
