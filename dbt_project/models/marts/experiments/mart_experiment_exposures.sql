-- One row per experiment x variation x exposure date: persons first exposed that day
-- (reporting zone) who are in the analysis, and those excluded, by the variation of their
-- first exposure (vars.experiments; rules in int_experiment_exposures).
with

exposures as (

    select * from {{ ref('int_experiment_exposures') }}

),

daily as (

    select
        experiment_id,
        variation_id,
        exposure_date,
        sum(case when is_included then 1 else 0 end) as persons,
        sum(case when exclusion_reason = 'multiple_variations' then 1 else 0 end)
            as persons_multiple_variations,
        sum(case when exclusion_reason = 'unknown_variation' then 1 else 0 end)
            as persons_unknown_variation,
        sum(exposures) as exposure_events
    from exposures
    group by experiment_id, variation_id, exposure_date

),

final as (

    select
        cast(experiment_id as {{ dbt.type_string() }}) as experiment_id,
        cast(variation_id as {{ dbt.type_string() }}) as variation_id,
        cast(exposure_date as date) as exposure_date,
        cast(persons as {{ dbt.type_bigint() }}) as persons,
        cast(persons_multiple_variations as {{ dbt.type_bigint() }}) as persons_multiple_variations,
        cast(persons_unknown_variation as {{ dbt.type_bigint() }}) as persons_unknown_variation,
        cast(exposure_events as {{ dbt.type_bigint() }}) as exposure_events,
        cast(sum(persons) over (
            partition by experiment_id, variation_id
            order by exposure_date rows between unbounded preceding and current row
        ) as {{ dbt.type_bigint() }}) as cumulative_persons
    from daily

)

select * from final
