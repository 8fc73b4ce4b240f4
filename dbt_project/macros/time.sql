{#- Timestamps are stored as UTC in TIMESTAMP columns; every mart "day" is in the
    reporting time zone (GROWTHOPS_REPORTING_TZ). Dispatched so another warehouse can
    bring its own syntax. -#}
{% macro to_reporting_time(ts) -%}
    {{ return(adapter.dispatch('to_reporting_time', 'growthops')(ts)) }}
{%- endmacro %}

{% macro default__to_reporting_time(ts) -%}
    (({{ ts }} at time zone 'UTC') at time zone '{{ var("reporting_timezone") }}')
{%- endmacro %}

{% macro duckdb__to_reporting_time(ts) -%}
    {%- if var("reporting_timezone") == "UTC" -%}
        {{ ts }}
    {%- else -%}
        timezone('{{ var("reporting_timezone") }}', timezone('UTC', {{ ts }}))
    {%- endif -%}
{%- endmacro %}

{% macro reporting_date(ts) -%}
    cast({{ growthops.to_reporting_time(ts) }} as date)
{%- endmacro %}

{#- JSON property of a JSON column, as text. -#}
{% macro json_text(column, key) -%}
    {{ return(adapter.dispatch('json_text', 'growthops')(column, key)) }}
{%- endmacro %}

{% macro default__json_text(column, key) -%}
    ({{ column }} ->> '{{ key }}')
{%- endmacro %}

{% macro duckdb__json_text(column, key) -%}
    json_extract_string({{ column }}, '$.{{ key }}')
{%- endmacro %}

{#- Divide, NULL when the denominator is 0 or NULL (rates, CPA, ROAS); double precision
    (dbt.type_float() is single precision on DuckDB). -#}
{% macro safe_divide(numerator, denominator) -%}
    cast({{ numerator }} as double precision) / nullif({{ denominator }}, 0)
{%- endmacro %}
