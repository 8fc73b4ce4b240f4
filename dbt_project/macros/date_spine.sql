{#- One row per day (column date_day) from start_date to end_date, both inclusive. The
    bounds are SQL expressions (a literal, a column of a one-row CTE, a scalar subquery),
    so the spine can follow the data without a query at compile time (dbt.date_spine
    runs one, which unit tests cannot feed). Use it as a subquery: from ({{ day_spine(..) }}). -#}
{% macro day_spine(start_date, end_date) -%}
    {{ return(adapter.dispatch('day_spine', 'growthops')(start_date, end_date)) }}
{%- endmacro %}

{#- Portable: 0..9999 from four cross-joined digit sets (about 27 years of days). -#}
{% macro default__day_spine(start_date, end_date) -%}
    select {{ dbt.dateadd('day', 'numbers.n', 'cast(' ~ start_date ~ ' as date)') }} as date_day
    from (
        select d0.d + 10 * d1.d + 100 * d2.d + 1000 * d3.d as n
        {%- for i in range(4) %}
        {{ 'from' if loop.first else 'cross join' }} (
            select 0 as d union all select 1 union all select 2 union all select 3 union all select 4
            union all select 5 union all select 6 union all select 7 union all select 8 union all select 9
        ) as d{{ i }}
        {%- endfor %}
    ) as numbers
    where {{ dbt.dateadd('day', 'numbers.n', 'cast(' ~ start_date ~ ' as date)') }} <= cast({{ end_date }} as date)
{%- endmacro %}

{% macro duckdb__day_spine(start_date, end_date) -%}
    select cast(unnest(generate_series(
        cast({{ start_date }} as timestamp), cast({{ end_date }} as timestamp), interval 1 day
    )) as date) as date_day
{%- endmacro %}

{% macro spark__day_spine(start_date, end_date) -%}
    select explode(sequence(
        cast({{ start_date }} as date), cast({{ end_date }} as date), interval 1 day
    )) as date_day
{%- endmacro %}
