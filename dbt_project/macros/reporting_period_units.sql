{#- The ops report's periods, one per row (column period_unit): a reporting day and an ISO
    week. growthops.report.PERIOD_UNITS lists the same (tests/unit/test_one_home.py);
    reporting_period_start() knows where each begins. -#}
{% macro reporting_period_units() -%}
    select units.period_unit from (values ('day'), ('week')) as units (period_unit)
{%- endmacro %}
