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

{#- convert_timezone keeps Spark's TIMESTAMP_NTZ (from_utc_timestamp would not). -#}
{% macro spark__to_reporting_time(ts) -%}
    {%- if var("reporting_timezone") == "UTC" -%}
        {{ ts }}
    {%- else -%}
        convert_timezone('UTC', '{{ var("reporting_timezone") }}', {{ ts }})
    {%- endif -%}
{%- endmacro %}

{% macro reporting_date(ts) -%}
    cast({{ growthops.to_reporting_time(ts) }} as date)
{%- endmacro %}

{#- Day N of an event after a person's acquisition touch: whole 24-hour blocks from the
    touch; an event before it counts on day 0 (value curves, payback, revenue_d7 / d30). -#}
{% macro days_since_touch(touch_at, event_at) -%}
    greatest(0, floor({{ growthops.funnel_seconds_between(touch_at, event_at) }} / 86400))
{%- endmacro %}

{#- The last complete reporting day of activity, as an aggregate over int_growth_person_days:
    the newest day with events is still filling, every day before it is complete
    (lifecycle, stickiness and the person profiles end there). -#}
{% macro last_complete_activity_day() -%}
    cast({{ dbt.dateadd('day', -1, 'max(activity_date)') }} as date)
{%- endmacro %}
