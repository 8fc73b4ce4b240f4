-- One row per acquisition date × channel × platform × campaign × keyword × day N (0 ..
-- var('value_curve_days'), up to the data's last day): what an acquisition cohort is worth
-- N days on (README "Cohort value curves").
--
-- Day N of an order = whole 24-hour blocks since the person's acquisition touch (an order
-- before the touch counts on day 0), so the cumulative revenue of day 6 / 29 is the
-- cohort's revenue_d7 / revenue_d30 (int_persons). Retained on day N = active on the
-- reporting day acquisition date + N (mart_growth_daily's Dn). Day N is mature once every
-- member's 24-hour block N is over: acquisition date + N + 2 is on or before the last day
-- with data.
with

persons as (

    select
        person_key,
        acquired_at,
        acquisition_date,
        acquisition_channel,
        coalesce(acquisition_platform, '') as acquisition_platform,
        coalesce(acquisition_campaign_id, '') as acquisition_campaign_id,
        coalesce(acquisition_keyword_id, '') as acquisition_keyword_id
    from {{ ref('int_persons') }}

),

person_days as (

    select * from {{ ref('int_growth_person_days') }}

),

orders as (

    select
        persons.person_key,
        {{ days_since_touch('persons.acquired_at', 'events.event_at') }} as day_number,
        events.revenue
    from persons
    inner join {{ ref('int_person_events') }} as events
        on persons.person_key = events.person_key
    where events.event_name = '{{ var("order_event") }}'

),

person_order_days as (

    select
        person_key,
        day_number,
        sum(revenue) as revenue,
        min(day_number) over (partition by person_key) as first_order_day
    from orders
    group by 1, 2

),

cohorts as (

    select
        acquisition_date,
        acquisition_channel,
        acquisition_platform,
        acquisition_campaign_id,
        acquisition_keyword_id,
        count(*) as cohort_size
    from persons
    group by 1, 2, 3, 4, 5

),

cohort_orders as (

    select
        persons.acquisition_date,
        persons.acquisition_channel,
        persons.acquisition_platform,
        persons.acquisition_campaign_id,
        persons.acquisition_keyword_id,
        person_order_days.day_number,
        sum(person_order_days.revenue) as revenue,
        sum(case when person_order_days.day_number = person_order_days.first_order_day then 1 else 0 end)
            as new_payers
    from person_order_days
    inner join persons
        on person_order_days.person_key = persons.person_key
    group by 1, 2, 3, 4, 5, 6

),

cohort_activity as (

    select
        persons.acquisition_date,
        persons.acquisition_channel,
        persons.acquisition_platform,
        persons.acquisition_campaign_id,
        persons.acquisition_keyword_id,
        {{ dbt.datediff('persons.acquisition_date', 'person_days.activity_date', 'day') }} as day_number,
        count(*) as retained
    from persons
    inner join person_days
        on persons.person_key = person_days.person_key
    where person_days.activity_date >= persons.acquisition_date
    group by 1, 2, 3, 4, 5, 6

),

cohort_spend as (

    select
        report_date,
        platform,
        campaign_id,
        coalesce(keyword_id, '') as keyword_id,
        sum(spend) as spend
    from {{ ref('int_spend_converted') }}
    group by 1, 2, 3, 4

),

last_day as (

    select max(activity_date) as last_date from person_days

),

day_numbers as (

    -- 0 .. value_curve_days, as the days since an arbitrary first day
    select {{ dbt.datediff("cast('2000-01-01' as date)", 'spine.date_day', 'day') }} as day_number
    from ({{ growthops.day_spine(
        "'2000-01-01'", dbt.dateadd('day', var('value_curve_days'), "cast('2000-01-01' as date)")) }}) as spine

),

grid as (

    select
        cohorts.*,
        day_numbers.day_number,
        {{ dbt.dateadd('day', 'day_numbers.day_number + 2', 'cohorts.acquisition_date') }} <= last_day.last_date
            as is_mature
    from cohorts
    cross join day_numbers
    cross join last_day
    where {{ dbt.dateadd('day', 'day_numbers.day_number', 'cohorts.acquisition_date') }} <= last_day.last_date

),

joined as (

    select
        grid.*,
        coalesce(cohort_activity.retained, 0) as retained,
        coalesce(cohort_orders.revenue, 0) as revenue,
        coalesce(cohort_orders.new_payers, 0) as new_payers,
        cohort_spend.spend
    from grid
    left join cohort_activity
        on grid.acquisition_date = cohort_activity.acquisition_date
        and grid.acquisition_channel = cohort_activity.acquisition_channel
        and grid.acquisition_platform = cohort_activity.acquisition_platform
        and grid.acquisition_campaign_id = cohort_activity.acquisition_campaign_id
        and grid.acquisition_keyword_id = cohort_activity.acquisition_keyword_id
        and grid.day_number = cohort_activity.day_number
    left join cohort_orders
        on grid.acquisition_date = cohort_orders.acquisition_date
        and grid.acquisition_channel = cohort_orders.acquisition_channel
        and grid.acquisition_platform = cohort_orders.acquisition_platform
        and grid.acquisition_campaign_id = cohort_orders.acquisition_campaign_id
        and grid.acquisition_keyword_id = cohort_orders.acquisition_keyword_id
        and grid.day_number = cohort_orders.day_number
    left join cohort_spend
        on grid.acquisition_date = cohort_spend.report_date
        and grid.acquisition_platform = cohort_spend.platform
        and grid.acquisition_campaign_id = cohort_spend.campaign_id
        and grid.acquisition_keyword_id = cohort_spend.keyword_id

),

cumulative as (

    select
        *,
        sum(revenue) over cohort_to_day as cumulative_revenue,
        sum(new_payers) over cohort_to_day as payers
    from joined
    window cohort_to_day as (
        partition by
            acquisition_date, acquisition_channel, acquisition_platform,
            acquisition_campaign_id, acquisition_keyword_id
        order by day_number rows between unbounded preceding and current row
    )

),

final as (

    select
        cast(acquisition_date as date) as acquisition_date,
        cast(acquisition_channel as {{ dbt.type_string() }}) as acquisition_channel,
        cast(nullif(acquisition_platform, '') as {{ dbt.type_string() }}) as acquisition_platform,
        cast(nullif(acquisition_campaign_id, '') as {{ dbt.type_string() }}) as acquisition_campaign_id,
        cast(nullif(acquisition_keyword_id, '') as {{ dbt.type_string() }}) as acquisition_keyword_id,
        cast(day_number as {{ dbt.type_int() }}) as day_number,
        is_mature,
        cast(cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
        cast(retained as {{ dbt.type_bigint() }}) as retained,
        cast(payers as {{ dbt.type_bigint() }}) as payers,
        cast(cumulative_revenue as decimal(18, 6)) as cumulative_revenue,
        cast(spend as decimal(18, 6)) as spend,
        {{ safe_divide('cumulative_revenue', 'cohort_size') }} as arpu,
        {{ safe_divide('cumulative_revenue', 'payers') }} as ltv,
        {{ safe_divide('cumulative_revenue', 'spend') }} as roas,
        cast(min(case when spend > 0 and cumulative_revenue >= spend then day_number end) over (
            partition by
                acquisition_date, acquisition_channel, acquisition_platform,
                acquisition_campaign_id, acquisition_keyword_id
        ) as {{ dbt.type_int() }}) as payback_day
    from cumulative

)

select * from final
