{#- refs first, so parsing (execute = false, nothing validated or generated) records them -#}
{%- set person_events = ref('int_person_events') -%}
{%- set persons_model = ref('int_persons') -%}
{%- set profiles_model = ref('mart_person_profiles') -%}
{%- set segment_members_model = ref('mart_segment_members') -%}
-- One row per funnel × cohort day × acquisition channel × platform × campaign × breakdown
-- value (a funnel's breakdown_by; '(all)' without one) × step,
-- generated from vars.funnels (dbt_project.yml); semantics in _product__funnels_retention.yml.
--
-- Per funnel: every step-1 event starts an attempt (unordered: every event matching any
-- step); macros/funnels.sql finds how far each attempt gets within the window and keeps,
-- per person, the attempt that got furthest (the first such attempt on a tie): a person
-- counts once per funnel, and that attempt's start defines the cohort day and the times
-- to convert.
{%- if execute %}
{%- set funnels = growthops.validate_funnels(var('funnels'), var('tracking_plan')) %}
with

events as (

    -- identify messages are not events; screens and page views are (they break strict)
    select
        person_key,
        event_name,
        event_at,
        properties,
        row_number() over (partition by person_key order by event_at, message_id) as event_seq
    from {{ person_events }}
    where message_type <> 'identify'
        and person_key is not null

),

persons as (

    select
        person_key,
        coalesce(acquisition_channel, '(none)') as acquisition_channel,
        coalesce(acquisition_platform, '(none)') as acquisition_platform,
        coalesce(acquisition_campaign_id, '(none)') as acquisition_campaign_id
    from {{ persons_model }}

),

funnel_steps as (
{{ growthops.funnel_steps_rows(funnels) }}

),

breakdowns as (
{{ growthops.breakdown_values(funnels, 'funnel_name', profiles_model, segment_members_model) }}

),

{% for funnel in funnels -%}
{{ growthops.funnel_reached_ctes(funnel, 'funnel_' ~ loop.index) }},

{% endfor -%}

reached as (
    {%- for funnel in funnels %}
    select * from funnel_{{ loop.index }}_reached
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

counted_steps as (

    select
        funnel_name,
        person_key,
        {{ growthops.reporting_date('attempt_start_at') }} as cohort_date,
        step_number,
        case
            when step_number > 1
                then {{ growthops.funnel_seconds_between('attempt_start_at', 'reached_at') }}
        end as seconds_to_convert
    from reached

),

step_totals as (

    select
        counted_steps.funnel_name,
        counted_steps.cohort_date,
        coalesce(persons.acquisition_channel, '(none)') as acquisition_channel,
        coalesce(persons.acquisition_platform, '(none)') as acquisition_platform,
        coalesce(persons.acquisition_campaign_id, '(none)') as acquisition_campaign_id,
        coalesce(breakdowns.breakdown_value, '(all)') as breakdown_value,
        counted_steps.step_number,
        count(*) as persons,
        avg(counted_steps.seconds_to_convert) as avg_seconds_to_convert,
        {{ growthops.median('counted_steps.seconds_to_convert') }} as median_seconds_to_convert
    from counted_steps
    left join persons
        on counted_steps.person_key = persons.person_key
    left join breakdowns
        on counted_steps.funnel_name = breakdowns.funnel_name
        and counted_steps.person_key = breakdowns.person_key
    group by 1, 2, 3, 4, 5, 6, 7

),

cohorts as (

    select distinct
        funnel_name,
        cohort_date,
        acquisition_channel,
        acquisition_platform,
        acquisition_campaign_id,
        breakdown_value
    from step_totals

),

grid as (

    -- every step of the funnel for every cohort, so steps nobody reached show 0
    select
        cohorts.*,
        funnel_steps.funnel_order,
        funnel_steps.step_number,
        funnel_steps.step_event,
        funnel_steps.step_label
    from cohorts
    inner join funnel_steps
        on cohorts.funnel_name = funnel_steps.funnel_name

),

joined as (

    select
        grid.*,
        coalesce(step_totals.persons, 0) as persons,
        step_totals.avg_seconds_to_convert,
        step_totals.median_seconds_to_convert
    from grid
    left join step_totals
        on grid.funnel_name = step_totals.funnel_name
        and grid.cohort_date = step_totals.cohort_date
        and grid.acquisition_channel = step_totals.acquisition_channel
        and grid.acquisition_platform = step_totals.acquisition_platform
        and grid.acquisition_campaign_id = step_totals.acquisition_campaign_id
        and grid.breakdown_value = step_totals.breakdown_value
        and grid.step_number = step_totals.step_number

),

final as (

    select
        cast(funnel_name as {{ dbt.type_string() }}) as funnel_name,
        cast(funnel_order as {{ dbt.type_string() }}) as funnel_order,
        cast(cohort_date as date) as cohort_date,
        cast(acquisition_channel as {{ dbt.type_string() }}) as acquisition_channel,
        cast(acquisition_platform as {{ dbt.type_string() }}) as acquisition_platform,
        cast(acquisition_campaign_id as {{ dbt.type_string() }}) as acquisition_campaign_id,
        cast({{ growthops.breakdown_by_column(funnels, 'funnel_name') }} as {{ dbt.type_string() }}) as breakdown_by,
        cast(breakdown_value as {{ dbt.type_string() }}) as breakdown_value,
        cast(step_number as {{ dbt.type_int() }}) as step_number,
        cast(step_event as {{ dbt.type_string() }}) as step_event,
        cast(step_label as {{ dbt.type_string() }}) as step_label,
        cast(persons as {{ dbt.type_bigint() }}) as persons,
        {{ growthops.safe_divide('persons', 'max(case when step_number = 1 then persons end) over (partition by funnel_name, cohort_date, acquisition_channel, acquisition_platform, acquisition_campaign_id, breakdown_value)') }}
            as conversion_from_start,
        case
            when step_number > 1 then {{ growthops.safe_divide('persons', 'lag(persons) over (partition by funnel_name, cohort_date, acquisition_channel, acquisition_platform, acquisition_campaign_id, breakdown_value order by step_number)') }}
        end as conversion_from_previous,
        cast(avg_seconds_to_convert as double) as avg_seconds_to_convert,
        cast(median_seconds_to_convert as double) as median_seconds_to_convert
    from joined

)

select * from final
{%- endif %}
