-- One row per period (a reporting day, or an ISO week from Monday) x funnel x step: the
-- persons of the cohorts that entered the funnel in the period (mart_funnel_conversion
-- summed over its cohort days and acquisition segments), and the conversion between steps.
with

period_units as (

    {{ reporting_period_units() }}

),

funnels as (

    select * from {{ ref('mart_funnel_conversion') }}

),

dated as (

    select
        period_units.period_unit,
        {{ reporting_period_start('period_units.period_unit', 'funnels.cohort_date') }} as period_start,
        funnels.funnel_name,
        funnels.funnel_order,
        funnels.step_number,
        funnels.step_event,
        funnels.step_label,
        funnels.persons
    from funnels
    cross join period_units

),

summed as (

    select
        period_unit,
        period_start,
        funnel_name,
        max(funnel_order) as funnel_order,
        step_number,
        max(step_event) as step_event,
        max(step_label) as step_label,
        sum(persons) as persons
    from dated
    group by period_unit, period_start, funnel_name, step_number

),

final as (

    select
        summed.period_unit,
        summed.period_start,
        summed.funnel_name,
        summed.funnel_order,
        summed.step_number,
        summed.step_event,
        summed.step_label,
        cast(summed.persons as {{ dbt.type_bigint() }}) as persons,
        {{ safe_divide('summed.persons', 'first_step.persons') }} as conversion_from_start,
        {{ safe_divide('summed.persons', 'previous_step.persons') }} as conversion_from_previous
    from summed
    left join summed as first_step
        on summed.period_unit = first_step.period_unit
        and summed.period_start = first_step.period_start
        and summed.funnel_name = first_step.funnel_name
        and first_step.step_number = 1
    left join summed as previous_step
        on summed.period_unit = previous_step.period_unit
        and summed.period_start = previous_step.period_start
        and summed.funnel_name = previous_step.funnel_name
        and previous_step.step_number = summed.step_number - 1

)

select * from final
