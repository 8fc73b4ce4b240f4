-- One row per day x KPI x breakdown (mart_kpi_daily's grain): the value against what the
-- same weekday of the previous var('anomaly_baseline_weeks') weeks leads one to expect.
--
-- expected: the median of those weeks' complete days' values (not the partial first day);
-- mad: the median absolute deviation of those values from expected; robust_z: |value -
-- expected| / scale, with scale = 1.4826 * mad (Iglewicz & Hoaglin's modified z-score: 1.4826
-- makes the MAD a standard deviation under normality) - for counts never below
-- sqrt(expected), a count's Poisson noise, so a few equal small counts do not make every
-- wobble an anomaly. Median and MAD ignore one outlier week: an earlier spike does not hide a
-- later one. is_anomaly needs a complete day, at least var('anomaly_min_baseline_weeks')
-- weeks of history, a change of at least var('anomaly_min_relative_change') x expected and
-- the unit's absolute floor, and robust_z above var('anomaly_z_threshold') - or, when the
-- scale is 0 (a flat history of money), any value away from it.
with

days as (

    select * from {{ ref('mart_kpi_daily') }}

),

history as (

    select
        days.report_date,
        days.kpi,
        days.dimension,
        days.dimension_value,
        past.value as past_value
    from days
    inner join days as past
        on days.kpi = past.kpi
        and days.dimension = past.dimension
        and days.dimension_value = past.dimension_value
        and days.report_date > past.report_date
        and {{ dbt.dateadd('day', -7 * var('anomaly_baseline_weeks'), 'days.report_date') }} <= past.report_date
        and mod({{ dbt.datediff('past.report_date', 'days.report_date', 'day') }}, 7) = 0
        and past.is_complete

),

baseline as (

    select
        report_date,
        kpi,
        dimension,
        dimension_value,
        {{ median('past_value') }} as expected,
        count(*) as baseline_weeks
    from history
    group by report_date, kpi, dimension, dimension_value

),

deviation as (

    select
        history.report_date,
        history.kpi,
        history.dimension,
        history.dimension_value,
        {{ median('abs(history.past_value - baseline.expected)') }} as mad
    from history
    inner join baseline
        on history.report_date = baseline.report_date
        and history.kpi = baseline.kpi
        and history.dimension = baseline.dimension
        and history.dimension_value = baseline.dimension_value
    group by history.report_date, history.kpi, history.dimension, history.dimension_value

),

scored as (

    select
        days.report_date,
        days.kpi,
        days.unit,
        days.dimension,
        days.dimension_value,
        days.value,
        days.is_complete,
        cast(baseline.expected as double) as expected,
        cast(coalesce(baseline.baseline_weeks, 0) as {{ dbt.type_bigint() }}) as baseline_weeks,
        cast(deviation.mad as double) as mad,
        days.value - baseline.expected as change,
        {{ safe_divide('days.value - baseline.expected', 'baseline.expected') }} as relative_change,
        case
            when days.unit = 'count' then greatest(1.4826 * deviation.mad, sqrt(greatest(baseline.expected, 0)))
            else 1.4826 * deviation.mad
        end as noise_scale
    from days
    left join baseline
        on days.report_date = baseline.report_date
        and days.kpi = baseline.kpi
        and days.dimension = baseline.dimension
        and days.dimension_value = baseline.dimension_value
    left join deviation
        on days.report_date = deviation.report_date
        and days.kpi = deviation.kpi
        and days.dimension = deviation.dimension
        and days.dimension_value = deviation.dimension_value

),

final as (

    select
        report_date,
        kpi,
        unit,
        dimension,
        dimension_value,
        value,
        is_complete,
        expected,
        baseline_weeks,
        mad,
        change,
        relative_change,
        noise_scale,
        {{ safe_divide('abs(change)', 'noise_scale') }} as robust_z,
        coalesce(
            is_complete
            and baseline_weeks >= {{ var('anomaly_min_baseline_weeks') }}
            and abs(change) >= {{ var('anomaly_min_relative_change') }} * abs(expected)
            and abs(change) >= case unit
                when 'money' then {{ var('anomaly_min_money_change') }}
                else {{ var('anomaly_min_count_change') }}
            end
            and (
                {{ safe_divide('abs(change)', 'noise_scale') }} > {{ var('anomaly_z_threshold') }}
                or (noise_scale = 0 and change <> 0)
            ),
            false
        ) as is_anomaly
    from scored

)

select * from final
