{#- A select-list expression that repeats its row once for each integer from start to stop
    (both inclusive, SQL expressions of the row), the integer being the column's value:
    `select key, {{ integer_range('0', 'n') }} as j from t`. -#}
{% macro integer_range(start, stop) -%}
    {{ return(adapter.dispatch('integer_range', 'growthops')(start, stop)) }}
{%- endmacro %}

{% macro default__integer_range(start, stop) -%}
    generate_series(cast({{ start }} as bigint), cast({{ stop }} as bigint))
{%- endmacro %}

{% macro duckdb__integer_range(start, stop) -%}
    unnest(generate_series(cast({{ start }} as bigint), cast({{ stop }} as bigint)))
{%- endmacro %}

{% macro spark__integer_range(start, stop) -%}
    explode(sequence(cast({{ start }} as bigint), cast({{ stop }} as bigint)))
{%- endmacro %}
