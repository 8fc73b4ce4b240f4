{#- refs first, so parsing (execute = false, nothing validated or generated) records them -#}
{%- set person_events = ref('int_person_events') -%}
-- One row per experiment x person exposed to it (vars.experiments): the variation of the
-- person's first exposure (by time, then message id), when, and whether the person is in
-- the analysis. Exposures are `Experiment Viewed` events (properties experiment_id,
-- variation_id) of a configured experiment inside its start..end dates (reporting zone,
-- inclusive). Excluded: persons exposed to more than one variation (e.g. a second device
-- that hashed into the other one) and persons whose first variation is not configured.
{%- if execute %}
{%- set experiments = growthops.experiment_definitions() %}
with

variations as (
{{ growthops.experiment_variation_rows(experiments) }}

),

experiments as (

    select distinct
        experiment_id,
        start_date,
        end_date
    from variations

),

exposure_events as (

    select
        person_key,
        message_id,
        event_at,
        {{ growthops.reporting_date('event_at') }} as exposure_date,
        {{ growthops.json_text('properties', 'experiment_id') }} as experiment_id,
        {{ growthops.json_text('properties', 'variation_id') }} as variation_id
    from {{ person_events }}
    where event_name = {{ growthops.funnel_sql_string(var('experiment_exposure_event')) }}
        and person_key is not null

),

in_window as (

    select exposure_events.*
    from exposure_events
    inner join experiments
        on exposure_events.experiment_id = experiments.experiment_id
    where (experiments.start_date is null or exposure_events.exposure_date >= experiments.start_date)
        and (experiments.end_date is null or exposure_events.exposure_date <= experiments.end_date)

),

ranked as (

    select
        *,
        row_number() over (
            partition by experiment_id, person_key order by event_at, message_id
        ) as exposure_rank,
        count(*) over (partition by experiment_id, person_key) as exposures,
        -- two variations seen (min <> max: portable, unlike a windowed count distinct)
        min(variation_id) over (partition by experiment_id, person_key)
        <> max(variation_id) over (partition by experiment_id, person_key) as saw_several_variations
    from in_window

),

final as (

    select
        ranked.experiment_id,
        ranked.person_key,
        ranked.variation_id,
        variations.variation_index,
        ranked.event_at as first_exposed_at,
        ranked.exposure_date,
        ranked.message_id as first_exposure_message_id,
        ranked.exposures,
        ranked.saw_several_variations,
        case
            when ranked.saw_several_variations then 'multiple_variations'
            when variations.variation_id is null then 'unknown_variation'
        end as exclusion_reason,
        not ranked.saw_several_variations and variations.variation_id is not null as is_included
    from ranked
    left join variations
        on ranked.experiment_id = variations.experiment_id
        and ranked.variation_id = variations.variation_id
    where ranked.exposure_rank = 1

)

select * from final
{%- endif %}
