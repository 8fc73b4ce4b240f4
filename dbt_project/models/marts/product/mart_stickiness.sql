-- One row per window (var('stickiness_windows') days) x window end x acquisition channel x
-- active days (1..window): PostHog's stickiness, persons by the number of days they were
-- active in the window. Windows end on each complete ISO week's Sunday; every bucket is
-- present (0 persons included), a person inactive in the window is in none.
{%- set windows = var('stickiness_windows') %}
with

activity as (

    select * from {{ ref('int_person_activity_days') }}

),

persons as (

    select
        person_key,
        acquisition_channel
    from {{ ref('int_persons') }}

),

bounds as (

    select
        {{ last_complete_activity_day() }} as complete_through
    from {{ ref('int_growth_person_days') }}

),

windows as (

    {% for days in windows -%}
    select {{ days }} as window_days
    {% if not loop.last %}union all
    {% endif %}
    {%- endfor %}

),

window_ends as (

    select distinct
        cast({{ dbt.dateadd('day', 6, dbt.date_trunc('week', 'activity.activity_date')) }} as date) as window_end
    from activity

),

complete_window_ends as (

    select window_ends.window_end
    from window_ends
    cross join bounds
    where window_ends.window_end <= bounds.complete_through

),

active_days as (

    select
        windows.window_days,
        complete_window_ends.window_end,
        activity.person_key,
        count(*) as active_days
    from complete_window_ends
    cross join windows
    inner join activity
        on activity.activity_date <= complete_window_ends.window_end
        and activity.activity_date
        > {{ dbt.dateadd('day', '-1 * windows.window_days', 'complete_window_ends.window_end') }}
    group by windows.window_days, complete_window_ends.window_end, activity.person_key

),

counted as (

    select
        active_days.window_days,
        active_days.window_end,
        persons.acquisition_channel,
        active_days.active_days,
        count(*) as persons
    from active_days
    inner join persons
        on active_days.person_key = persons.person_key
    group by active_days.window_days, active_days.window_end, persons.acquisition_channel, active_days.active_days

),

day_numbers as (

    {{ dbt.generate_series(windows | max) }}

),

-- every bucket 1..window of every (window, end, channel) that has anyone active
buckets as (

    select distinct
        counted.window_days,
        counted.window_end,
        counted.acquisition_channel,
        day_numbers.generated_number as active_days
    from counted
    inner join day_numbers
        on day_numbers.generated_number <= counted.window_days

),

final as (

    select
        buckets.window_days,
        buckets.window_end,
        cast({{ dbt.dateadd('day', '1 - buckets.window_days', 'buckets.window_end') }} as date) as window_start,
        buckets.acquisition_channel,
        cast(buckets.active_days as integer) as active_days,
        cast(coalesce(counted.persons, 0) as bigint) as persons
    from buckets
    left join counted
        on buckets.window_days = counted.window_days
        and buckets.window_end = counted.window_end
        and buckets.acquisition_channel = counted.acquisition_channel
        and buckets.active_days = counted.active_days

)

select * from final
