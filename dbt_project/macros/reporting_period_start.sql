{#- The first day of the period holding `day`: the day itself for 'day', the Monday of its
    ISO week for 'week', the first of its month for 'month'. `period_unit` is a column or a
    quoted literal. -#}
{% macro reporting_period_start(period_unit, day) -%}
    cast(case {{ period_unit }}
        when 'week' then {{ dbt.date_trunc('week', day) }}
        when 'month' then {{ dbt.date_trunc('month', day) }}
        else {{ day }}
    end as date)
{%- endmacro %}

{#- The start of the period `n` periods after the one starting at `period_start` (n may be
    negative); `unit` is a Jinja string: day, week or month. -#}
{% macro period_shift(unit, n, period_start) -%}
    {%- if unit == 'month' -%}
        cast({{ dbt.dateadd('month', n, period_start) }} as date)
    {%- else -%}
        cast({{ dbt.dateadd('day', n * (7 if unit == 'week' else 1), period_start) }} as date)
    {%- endif -%}
{%- endmacro %}
