-- One row per path definition x period (day, ISO week) x step x path: the sequences of
-- events people follow after (or before) a chosen event, PostHog's paths. Rules in full:
-- _product__models.yml.
{%- set definitions = validate_paths(var('paths'), var('tracking_plan')) %}
with

definitions as (

    {% for d in definitions -%}
    select
        {{ funnel_sql_string(d.name) }} as path_name,
        {{ funnel_sql_string(d.event) }} as start_event,
        {{ funnel_sql_string(d.direction) }} as direction,
        {{ d.steps }} as max_steps,
        {{ d.top }} as top_paths
    {% if not loop.last %}union all
    {% endif %}
    {%- endfor %}

),

-- a screen is its name; repeats in a row count once (A, A, B -> A, B)
items as (

    select
        person_key,
        session_number,
        event_at,
        message_id,
        event_date,
        case when message_type in ('screen', 'page') then coalesce(screen_name, event_name) else event_name end as item
    from {{ ref('int_session_events') }}

),

collapsed as (

    select
        *,
        lag(item) over (partition by person_key, session_number order by event_at, message_id) as previous_item
    from items

),

positioned as (

    select
        person_key,
        session_number,
        event_date,
        item,
        row_number() over (partition by person_key, session_number order by event_at, message_id) as position
    from collapsed
    where previous_item is null or previous_item <> item

),

-- the first occurrence of the start event in each session
anchors as (

    select
        definitions.path_name,
        positioned.person_key,
        positioned.session_number,
        min(positioned.position) as anchor_position
    from definitions
    inner join positioned
        on definitions.start_event = positioned.item
    group by definitions.path_name, positioned.person_key, positioned.session_number

),

steps as (

    select
        anchors.path_name,
        anchors.person_key,
        anchors.session_number,
        positioned.position,
        positioned.item,
        case
            when definitions.direction = 'after' then positioned.position - anchors.anchor_position
            else anchors.anchor_position - positioned.position
        end as step_number
    from anchors
    inner join definitions
        on anchors.path_name = definitions.path_name
    inner join positioned
        on anchors.person_key = positioned.person_key
        and anchors.session_number = positioned.session_number
        and positioned.position between anchors.anchor_position - case
            when definitions.direction = 'before' then definitions.max_steps else 0
        end
        and anchors.anchor_position + case when definitions.direction = 'after' then definitions.max_steps else 0 end

),

-- the items a session has beyond the start event in the path's direction: a path that
-- reaches the last of them has ended (dropped off) there
sessions as (

    select
        anchors.path_name,
        anchors.person_key,
        anchors.session_number,
        case
            when definitions.direction = 'after' then max(positioned.position) - anchors.anchor_position
            else anchors.anchor_position - 1
        end as items_beyond,
        max(case when positioned.position = anchors.anchor_position then positioned.event_date end) as anchor_date
    from anchors
    inner join definitions
        on anchors.path_name = definitions.path_name
    inner join positioned
        on anchors.person_key = positioned.person_key
        and anchors.session_number = positioned.session_number
    group by
        anchors.path_name, anchors.person_key, anchors.session_number, anchors.anchor_position,
        definitions.direction

),

-- each session's path up to each of its steps, read in time order
prefixes as (

    select
        steps.path_name,
        steps.person_key,
        steps.session_number,
        steps.step_number,
        {{ dbt.listagg('earlier.item', "' > '", 'order by earlier.position') }} as path
    from steps
    inner join steps as earlier
        on steps.path_name = earlier.path_name
        and steps.person_key = earlier.person_key
        and steps.session_number = earlier.session_number
        and earlier.step_number <= steps.step_number
    group by steps.path_name, steps.person_key, steps.session_number, steps.step_number

),

periods as (

    {{ reporting_period_units() }}

),

counted as (

    select
        prefixes.path_name,
        periods.period_unit,
        {{ reporting_period_start('periods.period_unit', 'sessions.anchor_date') }} as period_start,
        prefixes.step_number,
        prefixes.path,
        count(*) as sessions,
        count(distinct prefixes.person_key) as persons,
        sum(case when prefixes.step_number = sessions.items_beyond then 1 else 0 end) as sessions_ended
    from prefixes
    inner join sessions
        on prefixes.path_name = sessions.path_name
        and prefixes.person_key = sessions.person_key
        and prefixes.session_number = sessions.session_number
    cross join periods
    group by
        prefixes.path_name,
        periods.period_unit,
        {{ reporting_period_start('periods.period_unit', 'sessions.anchor_date') }},
        prefixes.step_number,
        prefixes.path

),

ranked as (

    select
        counted.*,
        definitions.top_paths,
        rank() over (
            partition by counted.path_name, counted.period_unit, counted.period_start, counted.step_number
            order by counted.sessions desc, counted.path
        ) as path_rank
    from counted
    inner join definitions
        on counted.path_name = definitions.path_name

),

final as (

    select
        path_name,
        period_unit,
        period_start,
        cast(step_number as integer) as step_number,
        path,
        cast(sessions as bigint) as sessions,
        cast(persons as bigint) as persons,
        cast(sessions_ended as bigint) as sessions_ended,
        cast(path_rank as integer) as path_rank
    from ranked
    where path_rank <= top_paths

)

select * from final
