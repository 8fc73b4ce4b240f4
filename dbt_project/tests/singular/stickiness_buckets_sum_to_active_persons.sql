-- mart_stickiness: each window's buckets add up to the persons active in it (all channels).
-- Returns the windows where they do not.
with

buckets as (

    select
        window_days,
        window_start,
        window_end,
        sum(persons) as persons
    from {{ ref('mart_stickiness') }}
    group by 1, 2, 3

),

checked as (

    select
        buckets.window_days,
        buckets.window_end,
        buckets.persons,
        count(distinct activity.person_key) as active_persons
    from buckets
    left join {{ ref('int_person_activity_days') }} as activity
        on activity.activity_date between buckets.window_start and buckets.window_end
    group by 1, 2, 3

)

select * from checked
where persons <> active_persons
