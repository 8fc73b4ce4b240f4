-- mart_lifecycle against the activity it classifies, per period (all channels): new +
-- returning + resurrecting = the persons active in the period, and returning + |dormant| =
-- the persons active in the previous one. Returns the periods where either fails.
{%- set units = var('lifecycle_period_units') %}
with

activity as (

    select * from {{ ref('int_person_activity_days') }}

),

active as (

    {% for unit in units -%}
    select
        '{{ unit }}' as period_unit,
        {{ reporting_period_start("'" ~ unit ~ "'", 'activity_date') }} as period_start,
        {{ period_shift(unit, 1, reporting_period_start("'" ~ unit ~ "'", 'activity_date')) }} as next_period_start,
        count(distinct person_key) as persons
    from activity
    group by 1, 2, 3
    {% if not loop.last %}union all
    {% endif %}
    {%- endfor %}

),

lifecycle as (

    select
        period_unit,
        period_start,
        sum(case when status in ('new', 'returning', 'resurrecting') then persons else 0 end) as active_persons,
        sum(case when status in ('returning', 'dormant') then abs(persons) else 0 end) as previously_active
    from {{ ref('mart_lifecycle') }}
    group by 1, 2

),

checked as (

    select
        lifecycle.period_unit,
        lifecycle.period_start,
        lifecycle.active_persons,
        coalesce(now_active.persons, 0) as expected_active,
        lifecycle.previously_active,
        coalesce(before.persons, 0) as expected_previously_active
    from lifecycle
    left join active as now_active
        on lifecycle.period_unit = now_active.period_unit
        and lifecycle.period_start = now_active.period_start
    left join active as before
        on lifecycle.period_unit = before.period_unit
        and lifecycle.period_start = before.next_period_start

)

select * from checked
where active_persons <> expected_active or previously_active <> expected_previously_active
