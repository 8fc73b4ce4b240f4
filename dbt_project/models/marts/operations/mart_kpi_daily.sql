-- One row per day x KPI x breakdown (platform or acquisition channel, 'all' for the total):
-- the KPI's value, zero on a day without rows, read from the marts that define it. Values
-- are summed as decimals (exact, so any run gives the same totals) and published as doubles.
with

kpis as (

    select
        kpi_list.dimension,
        kpi_list.kpi,
        kpi_list.unit
    from (
        values
        ('platform', 'spend', 'money'),
        ('platform', 'installs', 'count'),
        ('platform', 'signups', 'count'),
        ('channel', 'new_users', 'count'),
        ('channel', 'signups', 'count'),
        ('channel', 'activated', 'count'),
        ('channel', 'dau', 'count'),
        ('channel', 'revenue', 'money')
    ) as kpi_list (dimension, kpi, unit)

),

spend as (

    select
        report_date,
        platform,
        sum(spend) as spend,
        sum(installs) as installs,
        sum(signups) as signups
    from {{ ref('mart_spend_daily') }}
    group by report_date, platform

),

growth as (

    select * from {{ ref('mart_growth_daily') }}

),

by_platform as (

    select
        spend.report_date,
        kpis.kpi,
        kpis.unit,
        kpis.dimension,
        spend.platform as dimension_value,
        cast(case kpis.kpi
            when 'spend' then spend.spend
            when 'installs' then spend.installs
            when 'signups' then spend.signups
        end as decimal(38, 6)) as value
    from spend
    cross join kpis
    where kpis.dimension = 'platform'

),

by_channel as (

    select
        growth.report_date,
        kpis.kpi,
        kpis.unit,
        kpis.dimension,
        growth.acquisition_channel as dimension_value,
        cast(case kpis.kpi
            when 'new_users' then growth.new_users
            when 'signups' then growth.signups
            when 'activated' then growth.activated
            when 'dau' then growth.dau
            when 'revenue' then growth.revenue
        end as decimal(38, 6)) as value
    from growth
    cross join kpis
    where kpis.dimension = 'channel'

),

breakdowns as (

    select * from by_platform
    union all
    select * from by_channel

),

observations as (

    select * from breakdowns
    union all
    select
        report_date,
        kpi,
        unit,
        dimension,
        'all' as dimension_value,
        sum(value) as value
    from breakdowns
    group by report_date, kpi, unit, dimension

),

platform_last_reports as (

    select max(report_date) as last_report
    from spend
    where spend > 0
    group by platform

),

-- A day is complete when the app's events of the next day have begun to arrive (the last
-- day with events is still filling) and every platform has reported it; the first day of
-- the data is not (data rarely begins at midnight).
bounds as (

    select
        min(report_date) as first_date,
        max(report_date) as last_date,
        least(
            cast({{ dbt.dateadd('day', -1, 'max(case when dau > 0 then report_date end)') }} as date),
            (select min(platform_last_reports.last_report) from platform_last_reports)
        ) as complete_through
    from growth

),

days as (

    {{ day_spine('(select first_date from bounds)', '(select last_date from bounds)') }}

),

series as (

    select distinct
        kpi,
        unit,
        dimension,
        dimension_value
    from observations

),

final as (

    select
        days.date_day as report_date,
        series.kpi,
        series.unit,
        series.dimension,
        series.dimension_value,
        cast(coalesce(observations.value, 0) as double) as value,
        days.date_day > bounds.first_date and days.date_day <= bounds.complete_through as is_complete
    from series
    cross join days
    cross join bounds
    left join observations
        on series.kpi = observations.kpi
        and series.dimension = observations.dimension
        and series.dimension_value = observations.dimension_value
        and days.date_day = observations.report_date

)

select * from final
