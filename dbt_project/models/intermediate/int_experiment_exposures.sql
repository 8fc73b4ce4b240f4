{#- refs first, so parsing (execute = false, nothing validated or generated) records them -#}
{%- set person_events = ref('int_person_events') -%}
{%- set attribution = ref('int_person_attribution') -%}
-- One row per experiment x person exposed to it (vars.experiments): the variation of the
-- person's first exposure (by time, then message id), when, and whether the person is in
-- the analysis. Exposures are `Experiment Viewed` events (properties experiment_id,
-- variation_id) of a configured experiment inside its start..end dates (reporting zone,
-- inclusive). Excluded: persons exposed to more than one variation (e.g. a second device
-- that hashed into the other one) and persons whose first variation is not configured.
--
-- Observational comparisons (`observational: {campaign_id}`) are not randomised: a person
-- acquired by the campaign (int_person_attribution, last non-direct) is "exposed" at the
-- credited touch to its ad group (utm_content); the ad group with the most persons is the
-- control (variation_index 0). is_randomized tells the two apart.
{%- if execute %}
{%- set experiments = growthops.experiment_definitions() %}
with

variations as (
{{ growthops.experiment_variation_rows(experiments) }}

),

observed as (
{{ growthops.experiment_observational_rows(experiments) }}

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

randomized as (

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
        not ranked.saw_several_variations and variations.variation_id is not null as is_included,
        true as is_randomized
    from ranked
    left join variations
        on ranked.experiment_id = variations.experiment_id
        and ranked.variation_id = variations.variation_id
    where ranked.exposure_rank = 1

),

acquisitions as (

    select
        observed.experiment_id,
        acquired.person_key,
        acquired.acquisition_ad_group_id as variation_id,
        acquired.acquired_at as first_exposed_at,
        {{ growthops.reporting_date('acquired.acquired_at') }} as exposure_date
    from {{ attribution }} as acquired
    inner join observed
        on acquired.acquisition_campaign_id = observed.campaign_id
    where acquired.acquisition_ad_group_id is not null
        and (observed.start_date is null or {{ growthops.reporting_date('acquired.acquired_at') }} >= observed.start_date)
        and (observed.end_date is null or {{ growthops.reporting_date('acquired.acquired_at') }} <= observed.end_date)

),

observed_arms as (

    -- the ad group with the most persons is the control
    select
        experiment_id,
        variation_id,
        row_number() over (partition by experiment_id order by count(*) desc, variation_id) - 1
            as variation_index
    from acquisitions
    group by experiment_id, variation_id

),

observational as (

    select
        acquisitions.experiment_id,
        acquisitions.person_key,
        acquisitions.variation_id,
        observed_arms.variation_index,
        acquisitions.first_exposed_at,
        acquisitions.exposure_date,
        cast(null as {{ dbt.type_string() }}) as first_exposure_message_id,
        1 as exposures,
        false as saw_several_variations,
        cast(null as {{ dbt.type_string() }}) as exclusion_reason,
        true as is_included,
        false as is_randomized
    from acquisitions
    inner join observed_arms
        on acquisitions.experiment_id = observed_arms.experiment_id
        and acquisitions.variation_id = observed_arms.variation_id

),

final as (

    select * from randomized
    union all
    select * from observational

)

select * from final
{%- endif %}
