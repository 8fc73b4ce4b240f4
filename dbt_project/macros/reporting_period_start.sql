{#- The first day of the ops report's period holding `day`: the day itself for 'day', the
    Monday of its ISO week for 'week'. `period_unit` is a column or a quoted literal. -#}
{% macro reporting_period_start(period_unit, day) -%}
    cast(case {{ period_unit }} when 'week' then {{ dbt.date_trunc('week', day) }} else {{ day }} end as date)
{%- endmacro %}
