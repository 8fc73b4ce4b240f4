-- One row per acquisition platform ('all paid' for every platform) × day N: the cohort value
-- curves of mart_cohort_value_curves summed over the cohorts whose day N is mature, so each
-- point averages the cohorts observed that far (weighted by size and spend): the LTV / ROAS
-- curve of each platform.
with

mature as (

    select * from {{ ref('mart_cohort_value_curves') }}
    where is_mature
        and acquisition_platform is not null

),

summed as (

    select
        acquisition_platform as platform,
        day_number,
        count(*) as cohorts,
        sum(cohort_size) as persons,
        sum(payers) as payers,
        sum(cumulative_revenue) as cumulative_revenue,
        sum(spend) as spend
    from mature
    group by 1, 2
    union all
    select
        'all paid' as platform,
        day_number,
        count(*) as cohorts,
        sum(cohort_size) as persons,
        sum(payers) as payers,
        sum(cumulative_revenue) as cumulative_revenue,
        sum(spend) as spend
    from mature
    group by 1, 2

),

final as (

    select
        cast(platform as {{ dbt.type_string() }}) as platform,
        cast(day_number as {{ dbt.type_int() }}) as day_number,
        cast(cohorts as {{ dbt.type_bigint() }}) as cohorts,
        cast(persons as {{ dbt.type_bigint() }}) as persons,
        cast(payers as {{ dbt.type_bigint() }}) as payers,
        cast(cumulative_revenue as decimal(18, 6)) as cumulative_revenue,
        cast(spend as decimal(18, 6)) as spend,
        {{ safe_divide('cumulative_revenue', 'persons') }} as arpu,
        {{ safe_divide('cumulative_revenue', 'payers') }} as ltv,
        {{ safe_divide('cumulative_revenue', 'spend') }} as roas
    from summed

)

select * from final
