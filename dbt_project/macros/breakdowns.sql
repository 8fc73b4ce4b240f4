{#- The breakdown value of every person for each definition (funnel, retention) that has a
    breakdown_by: the current value of that mart_person_profiles column as text ('(none)'
    when null), or for segment:<name>, <name> for its members and 'not <name>' for the
    others (the person's profile today: PostHog's "current person properties" mode).
    Columns: <name_column>, person_key, breakdown_value. A definition without breakdown_by
    has no rows: its persons are '(all)'. -#}
{% macro breakdown_values(definitions, name_column, profiles, segment_members) -%}
    {%- set broken_down = definitions | selectattr('breakdown_by') | list -%}
    {%- for definition in broken_down %}
    select
        {{ funnel_sql_string(definition.name) }} as {{ name_column }},
        profiles.person_key,
        {%- if definition.breakdown_by.startswith('segment:') %}
        {%- set segment = definition.breakdown_by[8:] %}
        case
            when members.person_key is not null then {{ funnel_sql_string(segment) }}
            else {{ funnel_sql_string('not ' ~ segment) }}
        end as breakdown_value
    from {{ profiles }} as profiles
    left join {{ segment_members }} as members
        on profiles.person_key = members.person_key
        and members.segment_name = {{ funnel_sql_string(segment) }}
        {%- else %}
        coalesce(cast(profiles.{{ adapter.quote(definition.breakdown_by) }} as {{ dbt.type_string() }}), '(none)')
            as breakdown_value
    from {{ profiles }} as profiles
        {%- endif %}
    union all
    {%- endfor %}
    select
        cast(null as {{ dbt.type_string() }}) as {{ name_column }},
        cast(null as {{ dbt.type_string() }}) as person_key,
        cast(null as {{ dbt.type_string() }}) as breakdown_value
    where 1 = 0
{%- endmacro %}

{#- breakdown_by of each definition as a column (NULL without one). -#}
{% macro breakdown_by_column(definitions, name_column) -%}
    {%- set broken_down = definitions | selectattr('breakdown_by') | list -%}
    {%- if broken_down -%}
    case {{ name_column }}
        {%- for definition in broken_down %}
        when {{ funnel_sql_string(definition.name) }} then {{ funnel_sql_string(definition.breakdown_by) }}
        {%- endfor %}
    end
    {%- else -%}
    cast(null as {{ dbt.type_string() }})
    {%- endif -%}
{%- endmacro %}
