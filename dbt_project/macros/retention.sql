{#- SQL generators for mart_retention (definitions: vars.retention, validated by
    validate_retention). Reads the CTE `events` (person_key, event_name, event_date =
    reporting-time-zone day). Event names reach the SQL only as escaped literals. -#}

{#- First day of the day / week (ISO, Monday) / month period containing a date. -#}
{% macro retention_period_start(period, date_expression) -%}
    cast({{ dbt.date_trunc(period, date_expression) }} as date)
{%- endmacro %}

{#- CTEs "<p>_cohorts" (person_key, cohort_period) and "<p>_retained" (person_key,
    cohort_period, period_number >= 1: retained in that period) for one definition; both
    carry definition_name. `period_numbers` (generated_number 1..max periods) must exist.
    Ends without a comma. -#}
{% macro retention_ctes(definition, p) -%}
    {%- set name = growthops.funnel_sql_string(definition.name) -%}
{{ p }}_cohort_events as (

    select distinct
        person_key,
        {{ growthops.retention_period_start(definition.period, 'event_date') }} as cohort_period
    from events
    where event_name = {{ growthops.funnel_sql_string(definition.cohort_event) }}

),

{{ p }}_cohorts as (

    {%- if definition.type == 'first_time' %}
    -- first_time: the period of the person's first-ever cohort event
    select
        {{ name }} as definition_name,
        person_key,
        min(cohort_period) as cohort_period
    from {{ p }}_cohort_events
    group by person_key
    {%- else %}
    -- recurring: every period in which the person did the cohort event
    select
        {{ name }} as definition_name,
        person_key,
        cohort_period
    from {{ p }}_cohort_events
    {%- endif %}

),

{{ p }}_returns as (

    select distinct
        person_key,
        {{ growthops.retention_period_start(definition.period, 'event_date') }} as return_period
    from events
    {%- if definition.return_event != 'any' %}
    where event_name = {{ growthops.funnel_sql_string(definition.return_event) }}
    {%- endif %}

),

{{ p }}_return_offsets as (

    -- periods after the cohort period in which the person returned
    select distinct
        cohorts.person_key,
        cohorts.cohort_period,
        {{ dbt.datediff('cohorts.cohort_period', 'returns.return_period', definition.period) }} as period_number
    from {{ p }}_cohorts as cohorts
    inner join {{ p }}_returns as returns
        on cohorts.person_key = returns.person_key
        and returns.return_period > cohorts.cohort_period

),

{{ p }}_retained as (

    {%- if definition.rolling %}
    -- rolling: retained in period k when they returned in period k or any later one
    select
        {{ name }} as definition_name,
        last_return.person_key,
        last_return.cohort_period,
        period_numbers.generated_number as period_number
    from (
        select person_key, cohort_period, max(period_number) as last_period_number
        from {{ p }}_return_offsets
        group by person_key, cohort_period
    ) as last_return
    inner join period_numbers
        on period_numbers.generated_number <= last_return.last_period_number
        and period_numbers.generated_number <= {{ definition.periods }}
    {%- else %}
    -- retained in period k when they returned in period k
    select
        {{ name }} as definition_name,
        person_key,
        cohort_period,
        period_number
    from {{ p }}_return_offsets
    where period_number <= {{ definition.periods }}
    {%- endif %}

)
{%- endmacro %}

{#- One row per definition: its settings as data. -#}
{% macro retention_definition_rows(definitions) -%}
    {%- for d in definitions %}
    select
        {{ growthops.funnel_sql_string(d.name) }} as definition_name,
        {{ growthops.funnel_sql_string(d.cohort_event) }} as cohort_event,
        {{ growthops.funnel_sql_string(d.return_event) }} as return_event,
        {{ growthops.funnel_sql_string(d.type) }} as retention_type,
        {{ 'true' if d.rolling else 'false' }} as is_rolling,
        {{ growthops.funnel_sql_string(d.period) }} as period_unit,
        cast({{ d.periods }} as {{ dbt.type_int() }}) as periods
        {%- if not loop.last %}
    union all
        {%- endif %}
    {%- endfor %}
{%- endmacro %}
