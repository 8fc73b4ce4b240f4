-- One row per segment (var('segments')) x member: the persons whose profile
-- (mart_person_profiles, as of its as_of_date) matches the segment's rules.
{%- set segments = validate_segments(var('segments')) %}
with

profiles as (

    select * from {{ ref('mart_person_profiles') }}

),

members as (

    {% for segment in segments -%}
    select
        {{ funnel_sql_string(segment.name) }} as segment_name,
        person_key,
        as_of_date
    from profiles
    where
        {%- for rule in segment.rules %}
        {{ '' if loop.first else (' and ' if segment.match == 'all' else ' or ') }}
        {%- set column = adapter.quote(rule.column) %}
        {%- set op = rule.get('op', '=') %}
        {%- if op in ['is null', 'is not null'] %}({{ column }} {{ op }})
        {%- elif op in ['in', 'not in'] %}({{ column }} {{ op }} (
            {%- for v in rule.value %}{{ segment_value_sql(v) }}{{ ', ' if not loop.last }}{% endfor %}))
        {%- else %}({{ column }} {{ op }} {{ segment_value_sql(rule.value) }})
        {%- endif %}
        {%- endfor %}
    {% if not loop.last %}union all
    {% endif %}
    {%- endfor %}
    {%- if not segments %}
    select
        cast(null as {{ dbt.type_string() }}) as segment_name,
        cast(null as {{ dbt.type_string() }}) as person_key,
        cast(null as date) as as_of_date
    where 1 = 0
    {%- endif %}

),

final as (

    select
        segment_name,
        person_key,
        as_of_date
    from members

)

select * from final
