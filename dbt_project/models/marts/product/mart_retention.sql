{#- refs first, so parsing (execute = false, nothing validated or generated) records them -#}
{%- set person_events = ref('int_person_events') -%}
{%- set persons_model = ref('int_persons') -%}
{%- set profiles_model = ref('mart_person_profiles') -%}
{%- set segment_members_model = ref('mart_segment_members') -%}
-- One row per retention definition × cohort period × acquisition channel × breakdown value
-- (a definition's breakdown_by; '(all)' without one) × period number
-- (0..periods), generated from vars.retention (dbt_project.yml); semantics in
-- _product__funnels_retention.yml. Periods are counted in reporting-time-zone days; every
-- period 0..N is listed, also those not (fully) elapsed yet: see is_period_complete.
{%- if execute %}
{%- set definitions = growthops.validate_retention(var('retention'), var('tracking_plan')) %}
{%- set max_periods = definitions | map(attribute='periods') | max %}
with

events as (

    -- identify messages are not activity
    select
        person_key,
        event_name,
        {{ growthops.reporting_date('event_at') }} as event_date
    from {{ person_events }}
    where message_type <> 'identify'
        and person_key is not null

),

data_through as (

    -- the latest day with data (taken as not yet complete)
    select max(event_date) as last_event_date
    from events

),

persons as (

    select
        person_key,
        coalesce(acquisition_channel, '(none)') as acquisition_channel
    from {{ persons_model }}

),

period_numbers as (

    {{ dbt.generate_series(max_periods + 1) }}

),

definitions as (
{{ growthops.retention_definition_rows(definitions) }}

),

breakdowns as (
{{ growthops.breakdown_values(definitions, 'definition_name', profiles_model, segment_members_model) }}

),

{% for definition in definitions -%}
{{ growthops.retention_ctes(definition, 'retention_' ~ loop.index) }},

{% endfor -%}

cohorts as (
    {%- for definition in definitions %}
    select * from retention_{{ loop.index }}_cohorts
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

retained as (
    {%- for definition in definitions %}
    select * from retention_{{ loop.index }}_retained
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

cohort_sizes as (

    select
        cohorts.definition_name,
        cohorts.cohort_period,
        coalesce(persons.acquisition_channel, '(none)') as acquisition_channel,
        coalesce(breakdowns.breakdown_value, '(all)') as breakdown_value,
        count(*) as cohort_size
    from cohorts
    left join persons
        on cohorts.person_key = persons.person_key
    left join breakdowns
        on cohorts.definition_name = breakdowns.definition_name
        and cohorts.person_key = breakdowns.person_key
    group by 1, 2, 3, 4

),

retained_counts as (

    select
        retained.definition_name,
        retained.cohort_period,
        coalesce(persons.acquisition_channel, '(none)') as acquisition_channel,
        coalesce(breakdowns.breakdown_value, '(all)') as breakdown_value,
        retained.period_number,
        count(*) as retained_persons
    from retained
    left join persons
        on retained.person_key = persons.person_key
    left join breakdowns
        on retained.definition_name = breakdowns.definition_name
        and retained.person_key = breakdowns.person_key
    group by 1, 2, 3, 4, 5

),

grid as (

    -- periods 0..N for every cohort; period 0 is the cohort itself
    select
        cohort_sizes.*,
        definitions.cohort_event,
        definitions.return_event,
        definitions.retention_type,
        definitions.is_rolling,
        definitions.period_unit,
        period_numbers.generated_number - 1 as period_number
    from cohort_sizes
    inner join definitions
        on cohort_sizes.definition_name = definitions.definition_name
    inner join period_numbers
        on period_numbers.generated_number - 1 <= definitions.periods

),

joined as (

    select
        grid.*,
        case grid.period_unit
            {%- for unit in ['day', 'week', 'month'] %}
            when '{{ unit }}' then {{ dbt.dateadd(unit, 'grid.period_number', 'grid.cohort_period') }}
            {%- endfor %}
        end as period_start,
        case grid.period_unit
            {%- for unit in ['day', 'week', 'month'] %}
            when '{{ unit }}' then {{ dbt.dateadd(unit, 'grid.period_number + 1', 'grid.cohort_period') }}
            {%- endfor %}
        end as period_end,
        case
            when grid.period_number = 0 then grid.cohort_size
            else coalesce(retained_counts.retained_persons, 0)
        end as retained_persons
    from grid
    left join retained_counts
        on grid.definition_name = retained_counts.definition_name
        and grid.cohort_period = retained_counts.cohort_period
        and grid.acquisition_channel = retained_counts.acquisition_channel
        and grid.breakdown_value = retained_counts.breakdown_value
        and grid.period_number = retained_counts.period_number

),

final as (

    select
        cast(joined.definition_name as {{ dbt.type_string() }}) as definition_name,
        cast(joined.cohort_event as {{ dbt.type_string() }}) as cohort_event,
        cast(joined.return_event as {{ dbt.type_string() }}) as return_event,
        cast(joined.retention_type as {{ dbt.type_string() }}) as retention_type,
        cast(joined.is_rolling as {{ dbt.type_boolean() }}) as is_rolling,
        cast(joined.period_unit as {{ dbt.type_string() }}) as period_unit,
        cast(joined.cohort_period as date) as cohort_period,
        cast(joined.acquisition_channel as {{ dbt.type_string() }}) as acquisition_channel,
        cast({{ growthops.breakdown_by_column(definitions, 'joined.definition_name') }} as {{ dbt.type_string() }})
            as breakdown_by,
        cast(joined.breakdown_value as {{ dbt.type_string() }}) as breakdown_value,
        cast(joined.period_number as {{ dbt.type_int() }}) as period_number,
        cast(joined.period_start as date) as period_start,
        cast(joined.period_end as date) <= data_through.last_event_date as is_period_complete,
        cast(joined.cohort_size as {{ dbt.type_bigint() }}) as cohort_size,
        cast(joined.retained_persons as {{ dbt.type_bigint() }}) as retained_persons,
        {{ growthops.safe_divide('joined.retained_persons', 'joined.cohort_size') }} as retention_rate
    from joined
    cross join data_through

)

select * from final
{%- endif %}
