{#- Divide, NULL when the denominator is 0 or NULL (rates, CPA, ROAS); double precision
    (dbt.type_float() is single precision on DuckDB). -#}
{% macro safe_divide(numerator, denominator) -%}
    cast({{ numerator }} as double precision) / nullif({{ denominator }}, 0)
{%- endmacro %}
