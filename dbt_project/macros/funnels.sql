{#- SQL generators for mart_funnel_conversion (definitions: vars.funnels, validated by
    validate_funnels). Event names and filter values are data: they reach the SQL only as
    escaped string literals (funnel_sql_string); property keys are validated identifiers. -#}

{#- A SQL string literal for any text: single quotes doubled. -#}
{% macro funnel_sql_string(value) -%}
    {{ dbt.string_literal(value | string | replace("'", "''")) }}
{%- endmacro %}

{#- Seconds from start_ts to end_ts, fractional (dbt.datediff counts second boundaries). -#}
{% macro funnel_seconds_between(start_ts, end_ts) -%}
    {{ return(adapter.dispatch('funnel_seconds_between', 'growthops')(start_ts, end_ts)) }}
{%- endmacro %}

{% macro default__funnel_seconds_between(start_ts, end_ts) -%}
    cast({{ dbt.datediff(start_ts, end_ts, 'millisecond') }} as double) / 1000
{%- endmacro %}

{% macro duckdb__funnel_seconds_between(start_ts, end_ts) -%}
    (epoch({{ end_ts }}) - epoch({{ start_ts }}))
{%- endmacro %}

{% macro spark__funnel_seconds_between(start_ts, end_ts) -%}
    (cast(unix_micros({{ end_ts }}) - unix_micros({{ start_ts }}) as double) / 1000000)
{%- endmacro %}

{#- Boolean SQL: the event row (columns event_name, properties) matches the step. -#}
{% macro funnel_step_condition(step) -%}
    (event_name = {{ growthops.funnel_sql_string(step.event) }}
    {%- for f in step.filters %}
        and {{ growthops.json_text('properties', f.key) }} = {{ growthops.funnel_sql_string(f.value) }}
    {%- endfor -%})
{%- endmacro %}

{#- Human-readable label of a step: event name and its filters. -#}
{% macro funnel_step_label(step) -%}
    {%- set parts = [] -%}
    {%- for f in step.filters -%}{%- do parts.append(f.key ~ ' = ' ~ f.value) -%}{%- endfor -%}
    {{ return(step.event ~ ((' (' ~ parts | join(', ') ~ ')') if parts else '')) }}
{%- endmacro %}

{#- One row per funnel and step: the definition as data (funnel_name, funnel_order,
    step_number, step_event, step_label). -#}
{% macro funnel_steps_rows(funnels) -%}
    {%- for funnel in funnels -%}
        {%- set outer = loop -%}
        {%- for step in funnel.steps %}
    select
        {{ growthops.funnel_sql_string(funnel.name) }} as funnel_name,
        {{ growthops.funnel_sql_string(funnel.order) }} as funnel_order,
        cast({{ loop.index }} as {{ dbt.type_int() }}) as step_number,
        {{ growthops.funnel_sql_string(step.event) }} as step_event,
        {% if funnel.order == 'unordered' -%}
        {{ growthops.funnel_sql_string('completed ' ~ loop.index ~ ' of ' ~ funnel.steps | length ~ ' steps') }} as step_label
        {%- else -%}
        {{ growthops.funnel_sql_string(growthops.funnel_step_label(step)) }} as step_label
        {%- endif %}
            {%- if not (outer.last and loop.last) %}
    union all
            {%- endif %}
        {%- endfor -%}
    {%- endfor %}
{%- endmacro %}

{#- CTEs "<p>_events" ... "<p>_reached" for one funnel, reading the CTE `events` (or the
    one named by `events_cte`)
    (person_key, event_seq, event_at, event_name, properties; event_seq = the person's
    event order). <p>_reached has one row per person and step reached in the person's
    counted attempt (the one that got furthest, the first one on a tie; attempt_seq = the
    event_seq of the event that started it): funnel_name, person_key, attempt_seq,
    attempt_start_at, step_number, reached_at. The attempt is chosen inside the funnel: a
    strict funnel on a frequent event has tens of millions of attempts, and ranking them
    after the funnels' union ran out of memory on 100M events. Ends without a comma. -#}
{% macro funnel_reached_ctes(funnel, p, events_cte='events') -%}
    {%- set n = funnel.steps | length -%}
    {%- set window_end = dbt.dateadd(funnel.window_unit, funnel.window_value, 'first_step.event_at') -%}
{{ p }}_events as (

    -- events matching at least one step; matches_<k>: the event matches step k
    select
        person_key,
        event_seq,
        event_at,
        {%- for step in funnel.steps %}
        {{ growthops.funnel_step_condition(step) }} as matches_{{ loop.index }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ events_cte }}
    where
        {%- for step in funnel.steps %}
        {{ 'or ' if not loop.first }}{{ growthops.funnel_step_condition(step) }}
        {%- endfor %}

),
{%- if funnel.order in ['ordered', 'strict'] %}

{{ p }}_next as (

    -- next_seq_<k>: the event that can be step k right after this event as step k-1
    select
        *,
        {%- for k in range(2, n + 1) %}
        {%- if funnel.order == 'ordered' %}
        -- ordered: the person's next event (in event order) that matches step k
        min(case when matches_{{ k }} then event_seq end) over (
            partition by person_key order by event_seq rows between 1 following and unbounded following
        ) as next_seq_{{ k }}{{ ',' if not loop.last }}
        {%- else %}
        -- strict: the person's very next event, if it matches step k
        case
            when lead(event_seq) over (partition by person_key order by event_seq) = event_seq + 1
                and lead(matches_{{ k }}) over (partition by person_key order by event_seq)
                then event_seq + 1
        end as next_seq_{{ k }}{{ ',' if not loop.last }}
        {%- endif %}
        {%- endfor %}
    from {{ p }}_events

),

{{ p }}_attempts as (

    -- every step-1 event starts an attempt; each later step is the earliest possible one
    -- after the previous step, and must happen by step 1 + window (inclusive)
    select
        first_step.person_key,
        first_step.event_seq as attempt_seq,
        first_step.event_at as attempt_start_at,
        {%- for k in range(2, n + 1) %}
        step_{{ k }}.event_at as step_{{ k }}_at{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ p }}_next as first_step
    {%- for k in range(2, n + 1) %}
    {%- set previous = 'first_step' if k == 2 else 'step_' ~ (k - 1) %}
    left join {{ p }}_next as step_{{ k }}
        on {{ previous }}.person_key = step_{{ k }}.person_key
        and {{ previous }}.next_seq_{{ k }} = step_{{ k }}.event_seq
        and step_{{ k }}.event_at <= {{ window_end }}
    {%- endfor %}
    where first_step.matches_1

),

{{ p }}_counted as (

    -- the person's attempt that got furthest (steps reached in order: the non-null step
    -- columns), the first one on a tie
    select *
    from (
        select
            *,
            row_number() over (
                partition by person_key
                order by
                    {%- for k in range(2, n + 1) %}
                    case when step_{{ k }}_at is null then 0 else 1 end {{- ' +' if not loop.last }}
                    {%- endfor %} desc,
                    attempt_seq
            ) as attempt_rank
        from {{ p }}_attempts
    ) as ranked
    where attempt_rank = 1

),

{{ p }}_counted_steps as (

    select
        person_key,
        attempt_seq,
        attempt_start_at,
        1 as step_number,
        attempt_start_at as reached_at
    from {{ p }}_counted
    {%- for k in range(2, n + 1) %}
    union all
    select
        person_key,
        attempt_seq,
        attempt_start_at,
        {{ k }} as step_number,
        step_{{ k }}_at as reached_at
    from {{ p }}_counted
    where step_{{ k }}_at is not null
    {%- endfor %}

)
{%- else %}

{{ p }}_next as (

    -- unordered: every event matching any step starts an attempt; done_at_<k>: when
    -- step k is first matched at or after it (in event order)
    select
        person_key,
        event_seq,
        event_at,
        {%- for k in range(1, n + 1) %}
        min(case when matches_{{ k }} then event_at end) over (
            partition by person_key order by event_seq rows between current row and unbounded following
        ) as done_at_{{ k }}{{ ',' if not loop.last }}
        {%- endfor %}
    from {{ p }}_events

),

{{ p }}_steps_done as (

    -- one row per attempt and distinct step matched within the window (inclusive)
    {%- for k in range(1, n + 1) %}
    select
        first_step.person_key,
        first_step.event_seq as attempt_seq,
        first_step.event_at as attempt_start_at,
        {{ k }} as definition_step,
        first_step.done_at_{{ k }} as done_at
    from {{ p }}_next as first_step
    where first_step.done_at_{{ k }} <= {{ window_end }}
    {%- if not loop.last %}
    union all
    {%- endif %}
    {%- endfor %}

),

{{ p }}_steps as (

    -- step k = the k-th distinct step completed, reached when it was completed
    select
        person_key,
        attempt_seq,
        attempt_start_at,
        row_number() over (
            partition by person_key, attempt_seq order by done_at, definition_step
        ) as step_number,
        count(*) over (partition by person_key, attempt_seq) as steps_reached,
        done_at as reached_at
    from {{ p }}_steps_done

),

{{ p }}_counted_steps as (

    -- the steps of the person's attempt that got furthest, the first one on a tie
    -- (dense_rank: every step row of that attempt ranks 1)
    select
        person_key,
        attempt_seq,
        attempt_start_at,
        step_number,
        reached_at
    from (
        select
            *,
            dense_rank() over (
                partition by person_key order by steps_reached desc, attempt_seq
            ) as attempt_rank
        from {{ p }}_steps
    ) as ranked
    where attempt_rank = 1

)
{%- endif %},

{{ p }}_reached as (

    select
        {{ growthops.funnel_sql_string(funnel.name) }} as funnel_name,
        person_key,
        attempt_seq,
        attempt_start_at,
        step_number,
        reached_at
    from {{ p }}_counted_steps

)
{%- endmacro %}
