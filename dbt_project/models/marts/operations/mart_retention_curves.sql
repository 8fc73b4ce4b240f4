-- One row per retention definition x acquisition channel ('all' for the total) x period
-- number: mart_retention summed over the cohorts whose period is complete, so each point of
-- the curve averages the cohorts that could be observed that far (weighted by size).
with

observed as (

    select * from {{ ref('mart_retention') }}
    where is_period_complete

),

summed as (

    select
        definition_name,
        max(period_unit) as period_unit,
        acquisition_channel,
        period_number,
        count(*) as cohorts,
        sum(cohort_size) as cohort_size,
        sum(retained_persons) as retained_persons
    from observed
    group by definition_name, acquisition_channel, period_number
    union all
    select
        definition_name,
        max(period_unit) as period_unit,
        'all' as acquisition_channel,
        period_number,
        count(*) as cohorts,
        sum(cohort_size) as cohort_size,
        sum(retained_persons) as retained_persons
    from observed
    group by definition_name, period_number

),

final as (

    select
        definition_name,
        period_unit,
        acquisition_channel,
        period_number,
        cast(cohorts as {{ dbt.type_bigint() }}) as cohorts,
        cast(cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
        cast(retained_persons as {{ dbt.type_bigint() }}) as retained_persons,
        {{ safe_divide('retained_persons', 'cohort_size') }} as retention_rate
    from summed

)

select * from final
