-- One row per period (day, ISO week, month; reporting zone) x acquisition channel x
-- lifecycle status, PostHog's lifecycle: new (the period of the person's first event),
-- returning (active in the previous period too), resurrecting (active, not in the previous
-- period, not new), dormant (active in the previous period, not in this one; a negative
-- count). Rules in full: _product__models.yml.
{%- set units = validate_lifecycle_period_units() %}
with

activity as (

    select * from {{ ref('int_person_activity_days') }}

),

persons as (

    select
        person_key,
        acquisition_channel,
        {{ reporting_date('first_seen_at') }} as first_seen_date
    from {{ ref('int_persons') }}

),

-- the day with the newest events is still filling; every day before it is complete
bounds as (

    select
        max(activity_date) as last_date,
        {{ last_complete_activity_day() }} as complete_through
    from {{ ref('int_growth_person_days') }}

),

{% for unit in units %}
{{ unit }}_active as (

    select
        person_key,
        period_start,
        lag(period_start) over (partition by person_key order by period_start) as previous_active,
        lead(period_start) over (partition by person_key order by period_start) as next_active
    from (
        select distinct
            person_key,
            {{ reporting_period_start("'" ~ unit ~ "'", 'activity_date') }} as period_start
        from activity
    ) as active_periods

),

{{ unit }}_statuses as (

    select
        '{{ unit }}' as period_unit,
        {{ unit }}_active.period_start,
        {{ unit }}_active.person_key,
        case
            when {{ unit }}_active.period_start
                = {{ reporting_period_start("'" ~ unit ~ "'", 'persons.first_seen_date') }} then 'new'
            when {{ unit }}_active.previous_active
                = {{ period_shift(unit, -1, unit ~ '_active.period_start') }} then 'returning'
            else 'resurrecting'
        end as status
    from {{ unit }}_active
    inner join persons
        on {{ unit }}_active.person_key = persons.person_key
    union all
    select
        '{{ unit }}' as period_unit,
        {{ period_shift(unit, 1, unit ~ '_active.period_start') }} as period_start,
        {{ unit }}_active.person_key,
        'dormant' as status
    from {{ unit }}_active
    cross join bounds
    where
        ({{ unit }}_active.next_active is null
            or {{ unit }}_active.next_active <> {{ period_shift(unit, 1, unit ~ '_active.period_start') }})
        and {{ period_shift(unit, 1, unit ~ '_active.period_start') }}
        <= {{ reporting_period_start("'" ~ unit ~ "'", 'bounds.last_date') }}

),

{% endfor %}
statuses as (

    {% for unit in units -%}
    select * from {{ unit }}_statuses
    {% if not loop.last %}union all
    {% endif %}
    {%- endfor %}

),

counted as (

    select
        statuses.period_unit,
        statuses.period_start,
        persons.acquisition_channel,
        statuses.status,
        sum(case when statuses.status = 'dormant' then -1 else 1 end) as persons
    from statuses
    inner join persons
        on statuses.person_key = persons.person_key
    group by statuses.period_unit, statuses.period_start, persons.acquisition_channel, statuses.status

),

dated as (

    select
        counted.*,
        cast(case counted.period_unit
            {%- for unit in units %}
            when '{{ unit }}' then {{ dbt.dateadd('day', -1, period_shift(unit, 1, 'counted.period_start')) }}
            {%- endfor %}
        end as date) as period_end
    from counted

),

final as (

    select
        dated.period_unit,
        dated.period_start,
        dated.period_end,
        dated.acquisition_channel,
        dated.status,
        cast(dated.persons as bigint) as persons,
        dated.period_end <= bounds.complete_through as is_complete
    from dated
    cross join bounds

)

select * from final
