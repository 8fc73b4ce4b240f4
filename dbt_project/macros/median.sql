{#- The median of an aggregate group (the 50th percentile, interpolated between the two
    middle values when the count is even). -#}
{% macro median(expression) -%}
    {{ return(adapter.dispatch('median', 'growthops')(expression)) }}
{%- endmacro %}

{% macro default__median(expression) -%}
    percentile_cont(0.5) within group (order by {{ expression }})
{%- endmacro %}

{% macro duckdb__median(expression) -%}
    median({{ expression }})
{%- endmacro %}

{% macro spark__median(expression) -%}
    percentile({{ expression }}, 0.5)
{%- endmacro %}
