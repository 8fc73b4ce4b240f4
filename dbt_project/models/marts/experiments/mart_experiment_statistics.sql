{#- refs first, so parsing (execute = false, nothing validated or generated) records them -#}
{%- set person_events = ref('int_person_events') -%}
{%- set exposures_model = ref('int_experiment_exposures') -%}
{%- set persons_model = ref('int_persons') -%}
{%- set spend_model = ref('mart_spend_daily') -%}
-- One row per experiment x variation x metric x analysis date: the sufficient statistics
-- of the persons exposed by the end of that date, their metric as observed by then.
--
-- A person enters on the day of their first exposure (a retention metric's day N: once it
-- is over) with value 0; each metric increment
-- (macros/experiments.sql) raises the value on the day it happened. metric_sum and
-- metric_sum_squares add the persons' values and squared values (a person's square is
-- updated by value^2 - (value - increment)^2 on each change); pre_* hold the CUPED
-- covariate (the metric over the pre-period), sum_cross the sum of value x covariate.
-- Every product is rounded half up to micros before it is summed, and a person's cost is
-- divided in floating point: the same numbers on every engine (DuckDB and Spark differ in
-- how far they carry an exact decimal product or quotient).
-- The statistics (lift, p-value, chance to win) are computed from these in Python:
-- mart_experiment_results (growthops.experiments).
{%- if execute %}
{%- set experiments = growthops.experiment_definitions() %}
{%- set metrics = growthops.experiment_metrics_used(experiments) %}
with

configured as (
{{ growthops.experiment_variation_rows(experiments) }}

),

observed as (
{{ growthops.experiment_observational_rows(experiments) }}

),

variations as (

    -- randomised experiments' configured variations; observational comparisons' ad groups
    select
        *,
        true as is_randomized
    from configured
    union all
    select distinct
        exposed.experiment_id,
        exposed.variation_id,
        exposed.variation_index,
        cast(null as double) as weight,
        observed.start_date,
        observed.end_date,
        observed.pre_period_days,
        observed.is_paid_cost,
        false as is_randomized
    from {{ exposures_model }} as exposed
    inner join observed
        on exposed.experiment_id = observed.experiment_id

),

experiment_metrics as (
{{ growthops.experiment_metric_rows(experiments) }}

),

events as (

    -- identify messages are not events
    select
        person_key,
        message_id,
        event_name,
        event_at,
        revenue,
        properties
    from {{ person_events }}
    where message_type <> 'identify'
        and person_key is not null

),

person_costs as (

    -- what a paid person cost: their acquisition campaign's spend on their acquisition day
    -- over the persons it acquired that day
    select
        persons.person_key,
        -- decimal: a sum of doubles depends on the order rows arrive in
        cast(cast(spend.spend as double) / spend.installs as decimal(18, 6)) as acquisition_cost
    from {{ persons_model }} as persons
    inner join {{ spend_model }} as spend
        on persons.acquisition_date = spend.report_date
        and persons.acquisition_platform = spend.platform
        and persons.acquisition_campaign_id = spend.campaign_id
    where spend.installs > 0

),

exposures as (

    -- one row per included person and metric their experiment reads
    select
        exposed.experiment_id,
        exposed.variation_id,
        exposed.person_key,
        exposed.first_exposed_at,
        exposed.exposure_date,
        -- the day the person enters the metric's analysis (retention: once day N is over)
        {{ growthops.reporting_date(dbt.dateadd('day', 'experiment_metrics.maturity_days', 'exposed.first_exposed_at')) }}
            as entry_date,
        variations.pre_period_days,
        case when variations.is_paid_cost then person_costs.acquisition_cost end as acquisition_cost,
        experiment_metrics.metric_name
    from {{ exposures_model }} as exposed
    inner join variations
        on exposed.experiment_id = variations.experiment_id
        and exposed.variation_id = variations.variation_id
    inner join experiment_metrics
        on exposed.experiment_id = experiment_metrics.experiment_id
    left join person_costs
        on exposed.person_key = person_costs.person_key
    where exposed.is_included

),

{% for metric in metrics -%}
{{ growthops.experiment_metric_ctes(metric, 'metric_' ~ loop.index) }},

{% endfor -%}

increments as (

    {%- for metric in metrics %}
    select
        experiment_id,
        person_key,
        {{ growthops.funnel_sql_string(metric.name) }} as metric_name,
        value_date,
        cast(increment as decimal(18, 6)) as increment
    from metric_{{ loop.index }}_post
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    {{ growthops.typed_empty_select([
        ('experiment_id', dbt.type_string()), ('person_key', dbt.type_string()),
        ('metric_name', dbt.type_string()), ('value_date', 'date'),
        ('increment', 'decimal(18, 6)')]) }}
    {%- endfor %}

),

pre_values as (

    {%- for metric in metrics if metric.type != 'funnel' %}
    select
        experiment_id,
        person_key,
        {{ growthops.funnel_sql_string(metric.name) }} as metric_name,
        cast(pre_value as decimal(18, 6)) as pre_value
    from metric_{{ metrics.index(metric) + 1 }}_pre
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- else %}
    {{ growthops.typed_empty_select([
        ('experiment_id', dbt.type_string()), ('person_key', dbt.type_string()),
        ('metric_name', dbt.type_string()), ('pre_value', 'decimal(18, 6)')]) }}
    {%- endfor %}

),

covariates as (

    -- each included person and metric with its CUPED covariate (0 without a pre-period)
    select
        exposures.*,
        coalesce(pre_values.pre_value, 0) as pre_value
    from exposures
    left join pre_values
        on exposures.experiment_id = pre_values.experiment_id
        and exposures.person_key = pre_values.person_key
        and exposures.metric_name = pre_values.metric_name

),

person_days as (

    select
        experiment_id,
        person_key,
        metric_name,
        value_date,
        sum(increment) as increment
    from increments
    group by experiment_id, person_key, metric_name, value_date

),

person_values as (

    select
        *,
        sum(increment) over (
            partition by experiment_id, person_key, metric_name
            order by value_date rows between unbounded preceding and current row
        ) as value_to_date
    from person_days

),

value_changes as (

    select
        covariates.experiment_id,
        covariates.variation_id,
        covariates.metric_name,
        person_values.value_date as analysis_date,
        sum(person_values.increment) as delta_sum,
        sum(
            cast(person_values.value_to_date * person_values.value_to_date as decimal(38, 6))
            - cast(
                (person_values.value_to_date - person_values.increment)
                * (person_values.value_to_date - person_values.increment) as decimal(38, 6)
            )
        ) as delta_sum_squares,
        sum(cast(person_values.increment * covariates.pre_value as decimal(38, 6))) as delta_sum_cross
    from person_values
    inner join covariates
        on person_values.experiment_id = covariates.experiment_id
        and person_values.person_key = covariates.person_key
        and person_values.metric_name = covariates.metric_name
    group by 1, 2, 3, 4

),

entries as (

    -- persons entering the analysis (their first exposure's day; retention: once their
    -- day N is over), with their pre-period values
    select
        experiment_id,
        variation_id,
        metric_name,
        entry_date as analysis_date,
        count(*) as delta_persons,
        sum(pre_value) as delta_pre_sum,
        sum(cast(pre_value * pre_value as decimal(38, 6))) as delta_pre_sum_squares,
        sum(case when acquisition_cost is not null then 1 else 0 end) as delta_paid_persons,
        sum(acquisition_cost) as delta_cost
    from covariates
    group by 1, 2, 3, 4

),

experiment_dates as (

    select
        experiment_id,
        min(exposure_date) as first_date
    from {{ exposures_model }}
    group by experiment_id

),

analysis_dates as (

    -- every day from the first exposure of any experiment to the data's last day
    select date_day as analysis_date
    from ({{ growthops.day_spine(
        '(select min(first_date) from experiment_dates)',
        '(select max(event_date) from ' ~ person_events ~ ')') }}) as spine

),

grid as (

    select
        variations.experiment_id,
        variations.variation_id,
        variations.variation_index,
        variations.weight,
        variations.is_randomized,
        variations.pre_period_days,
        experiment_metrics.metric_name,
        experiment_metrics.metric_type,
        analysis_dates.analysis_date
    from variations
    inner join experiment_metrics
        on variations.experiment_id = experiment_metrics.experiment_id
    inner join experiment_dates
        on variations.experiment_id = experiment_dates.experiment_id
    inner join analysis_dates
        on analysis_dates.analysis_date >= experiment_dates.first_date

),

daily as (

    select
        grid.*,
        coalesce(entries.delta_persons, 0) as delta_persons,
        coalesce(entries.delta_paid_persons, 0) as delta_paid_persons,
        coalesce(entries.delta_cost, 0) as delta_cost,
        coalesce(entries.delta_pre_sum, 0) as delta_pre_sum,
        coalesce(entries.delta_pre_sum_squares, 0) as delta_pre_sum_squares,
        coalesce(value_changes.delta_sum, 0) as delta_sum,
        coalesce(value_changes.delta_sum_squares, 0) as delta_sum_squares,
        coalesce(value_changes.delta_sum_cross, 0) as delta_sum_cross
    from grid
    left join entries
        on grid.experiment_id = entries.experiment_id
        and grid.variation_id = entries.variation_id
        and grid.metric_name = entries.metric_name
        and grid.analysis_date = entries.analysis_date
    left join value_changes
        on grid.experiment_id = value_changes.experiment_id
        and grid.variation_id = value_changes.variation_id
        and grid.metric_name = value_changes.metric_name
        and grid.analysis_date = value_changes.analysis_date

),

cumulative as (

    select
        experiment_id,
        variation_id,
        variation_index,
        weight,
        is_randomized,
        pre_period_days,
        metric_name,
        metric_type,
        analysis_date,
        {%- for column in ['persons', 'paid_persons', 'cost', 'sum', 'sum_squares', 'sum_cross', 'pre_sum', 'pre_sum_squares'] %}
        sum(delta_{{ column }}) over (
            partition by experiment_id, variation_id, metric_name
            order by analysis_date rows between unbounded preceding and current row
        ) as cumulative_{{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from daily

),

final as (

    select
        cast(experiment_id as {{ dbt.type_string() }}) as experiment_id,
        cast(variation_id as {{ dbt.type_string() }}) as variation_id,
        cast(variation_index as {{ dbt.type_int() }}) as variation_index,
        variation_index = 0 as is_control,
        cast(weight as double) as weight,
        is_randomized,
        cast(metric_name as {{ dbt.type_string() }}) as metric_name,
        cast(metric_type as {{ dbt.type_string() }}) as metric_type,
        cast(analysis_date as date) as analysis_date,
        cast(cumulative_persons as {{ dbt.type_bigint() }}) as persons,
        cast(cumulative_sum as double) as metric_sum,
        cast(cumulative_sum_squares as double) as metric_sum_squares,
        cast(pre_period_days as {{ dbt.type_int() }}) as pre_period_days,
        cast(cumulative_pre_sum as double) as pre_sum,
        cast(cumulative_pre_sum_squares as double) as pre_sum_squares,
        cast(cumulative_sum_cross as double) as sum_cross,
        cast(cumulative_paid_persons as {{ dbt.type_bigint() }}) as paid_persons,
        cast(cumulative_cost as double) as arm_cost
    from cumulative

)

select * from final
{%- endif %}
