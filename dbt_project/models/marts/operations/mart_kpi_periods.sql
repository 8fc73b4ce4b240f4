-- One row per period (a reporting day, or an ISO week from Monday) x headline KPI: the value,
-- the previous period's, and the change; what the ops report's headline reads.
--
-- Sums over the period: new_users, signups, activated, revenue, spend and the paid funnel
-- (mart_growth_daily, mart_spend_daily); dau is the mean daily DAU of the period; wau and
-- mau are those of the period's last day. cpa = spend / sign-ups credited to paid platforms,
-- cac = spend / their payers, roas = their revenue to date / spend, k_factor = referral
-- sign-ups / the period's active users (dau of a day, wau of a week).
with

period_units as (

    {{ reporting_period_units() }}

),

kpis as (

    select
        kpi_list.kpi,
        kpi_list.unit
    from (
        values
        ('new_users', 'count'), ('signups', 'count'), ('activated', 'count'),
        ('dau', 'count'), ('wau', 'count'), ('mau', 'count'), ('spend', 'money'),
        ('revenue', 'money'), ('cpa', 'money'), ('cac', 'money'), ('roas', 'ratio'),
        ('k_factor', 'ratio')
    ) as kpi_list (kpi, unit)

),

growth as (

    select
        report_date,
        sum(new_users) as new_users,
        sum(signups) as signups,
        sum(activated) as activated,
        sum(dau) as dau,
        sum(wau) as wau,
        sum(mau) as mau,
        sum(revenue) as revenue,
        sum(referral_signups) as referral_signups
    from {{ ref('mart_growth_daily') }}
    group by report_date

),

paid as (

    select
        report_date,
        sum(spend) as spend,
        sum(signups) as paid_signups,
        sum(payers) as paid_payers,
        sum(revenue_to_date) as paid_revenue_to_date
    from {{ ref('mart_spend_daily') }}
    group by report_date

),

daily as (

    select
        growth.*,
        coalesce(paid.spend, 0) as spend,
        coalesce(paid.paid_signups, 0) as paid_signups,
        coalesce(paid.paid_payers, 0) as paid_payers,
        coalesce(paid.paid_revenue_to_date, 0) as paid_revenue_to_date
    from growth
    left join paid
        on growth.report_date = paid.report_date

),

dated as (

    select
        period_units.period_unit,
        {{ reporting_period_start('period_units.period_unit', 'daily.report_date') }} as period_start,
        daily.*
    from daily
    cross join period_units

),

last_days as (

    select
        period_unit,
        period_start,
        max(report_date) as last_date
    from dated
    group by period_unit, period_start

),

summed as (

    select
        dated.period_unit,
        dated.period_start,
        sum(dated.new_users) as new_users,
        sum(dated.signups) as signups,
        sum(dated.activated) as activated,
        avg(dated.dau) as dau,
        max(case when dated.report_date = last_days.last_date then dated.wau end) as wau,
        max(case when dated.report_date = last_days.last_date then dated.mau end) as mau,
        sum(dated.revenue) as revenue,
        sum(dated.referral_signups) as referral_signups,
        sum(dated.spend) as spend,
        sum(dated.paid_signups) as paid_signups,
        sum(dated.paid_payers) as paid_payers,
        sum(dated.paid_revenue_to_date) as paid_revenue_to_date
    from dated
    inner join last_days
        on dated.period_unit = last_days.period_unit
        and dated.period_start = last_days.period_start
    group by dated.period_unit, dated.period_start

),

long as (

    select
        summed.period_unit,
        summed.period_start,
        kpis.kpi,
        kpis.unit,
        cast(case kpis.kpi
            when 'new_users' then summed.new_users
            when 'signups' then summed.signups
            when 'activated' then summed.activated
            when 'dau' then summed.dau
            when 'wau' then summed.wau
            when 'mau' then summed.mau
            when 'spend' then summed.spend
            when 'revenue' then summed.revenue
            when 'cpa' then {{ safe_divide('summed.spend', 'summed.paid_signups') }}
            when 'cac' then {{ safe_divide('summed.spend', 'summed.paid_payers') }}
            when 'roas' then {{ safe_divide('summed.paid_revenue_to_date', 'summed.spend') }}
            when 'k_factor' then {{ safe_divide(
                'summed.referral_signups',
                "case summed.period_unit when 'day' then summed.dau else summed.wau end"
            ) }}
        end as double) as value
    from summed
    cross join kpis

),

complete as (

    select max(report_date) as complete_through
    from {{ ref('mart_kpi_daily') }}
    where is_complete

),

compared as (

    select
        long.*,
        lag(long.value) over (
            partition by long.period_unit, long.kpi order by long.period_start
        ) as previous_value,
        cast(case long.period_unit
            when 'week' then {{ dbt.dateadd('day', 6, 'long.period_start') }}
            else long.period_start
        end as date) as period_end
    from long

),

final as (

    select
        compared.period_unit,
        compared.period_start,
        compared.period_end,
        compared.kpi,
        compared.unit,
        compared.value,
        compared.previous_value,
        compared.value - compared.previous_value as change,
        {{ safe_divide('compared.value - compared.previous_value', 'compared.previous_value') }}
            as relative_change,
        coalesce(compared.period_end <= complete.complete_through, false) as is_complete
    from compared
    cross join complete

)

select * from final
