{#- Divide, NULL when the denominator is 0 or NULL (rates, CPA, ROAS); a DOUBLE
    (dbt.type_float() is single precision on DuckDB). -#}
{% macro safe_divide(numerator, denominator) -%}
    cast({{ numerator }} as double) / nullif({{ denominator }}, 0)
{%- endmacro %}
