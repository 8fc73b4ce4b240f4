-- One row per report date x search keyword (platform, ad group, keyword): the SEM team's
-- daily list. Trailing columns cover the var('wasted_keyword_days') days ending that day.
with

-- one row per keyword and day: a report at ad x keyword grain sums over its ads
spend as (

    select
        report_date,
        platform,
        account_id,
        campaign_id,
        ad_group_id,
        keyword_id,
        max(campaign_name) as campaign_name,
        max(ad_group_name) as ad_group_name,
        max(keyword_text) as keyword_text,
        max(match_type) as match_type,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(spend) as spend
    from {{ ref('int_spend_converted') }}
    where keyword_id is not null
    group by 1, 2, 3, 4, 5, 6

),

signups as (

    select
        acquisition_date as report_date,
        acquisition_platform as platform,
        acquisition_ad_group_id as ad_group_id,
        acquisition_keyword_id as keyword_id,
        count(signed_up_at) as signups
    from {{ ref('int_persons') }}
    where acquisition_keyword_id is not null
    group by 1, 2, 3, 4

),

daily as (

    select
        spend.report_date,
        spend.platform,
        spend.account_id,
        spend.campaign_id,
        spend.campaign_name,
        spend.ad_group_id,
        spend.ad_group_name,
        spend.keyword_id,
        spend.keyword_text,
        spend.match_type,
        spend.impressions,
        spend.clicks,
        spend.spend,
        coalesce(signups.signups, 0) as signups
    from spend
    left join signups
        on spend.report_date = signups.report_date
        and spend.platform = signups.platform
        and spend.ad_group_id = signups.ad_group_id
        and spend.keyword_id = signups.keyword_id

),

trailing_window as (

    select
        today.report_date,
        today.platform,
        today.ad_group_id,
        today.keyword_id,
        sum(window_days.spend) as trailing_spend,
        sum(window_days.clicks) as trailing_clicks,
        sum(window_days.signups) as trailing_signups
    from daily as today
    inner join daily as window_days
        on today.platform = window_days.platform
        and today.ad_group_id = window_days.ad_group_id
        and today.keyword_id = window_days.keyword_id
        and today.report_date >= window_days.report_date
        and {{ dbt.dateadd('day', -1 * var('wasted_keyword_days'), 'today.report_date') }}
        < window_days.report_date
    group by 1, 2, 3, 4

),

scored as (

    select
        daily.*,
        trailing_window.trailing_spend,
        trailing_window.trailing_clicks,
        trailing_window.trailing_signups,
        {{ safe_divide("trailing_window.trailing_signups", "trailing_window.trailing_clicks") }} as conversion_rate,
        trailing_window.trailing_spend >= {{ var('wasted_keyword_min_spend') }}
        and trailing_window.trailing_signups = 0 as is_wasted
    from daily
    inner join trailing_window
        on daily.report_date = trailing_window.report_date
        and daily.platform = trailing_window.platform
        and daily.ad_group_id = trailing_window.ad_group_id
        and daily.keyword_id = trailing_window.keyword_id

),

final as (

    select
        report_date,
        platform,
        account_id,
        campaign_id,
        campaign_name,
        ad_group_id,
        ad_group_name,
        keyword_id,
        keyword_text,
        match_type,
        cast(impressions as bigint) as impressions,
        cast(clicks as bigint) as clicks,
        cast(spend as decimal(18, 6)) as spend,
        cast(signups as bigint) as signups,
        cast(trailing_spend as decimal(18, 6)) as trailing_spend,
        cast(trailing_clicks as bigint) as trailing_clicks,
        cast(trailing_signups as bigint) as trailing_signups,
        conversion_rate,
        is_wasted,
        cast(
            rank() over (
                partition by report_date, platform
                order by coalesce(conversion_rate, -1) desc, trailing_spend asc
            ) as integer
        ) as conversion_rank
    from scored

)

select * from final
