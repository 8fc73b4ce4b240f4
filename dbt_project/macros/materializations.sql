{#- The materialization of a model kept incrementally by delete+insert on a key: where the
    engine has no delete+insert (Spark on Parquet tables) the model is rebuilt, which its
    incremental runs must equal anyway (int_events_enriched). -#}
{% macro delete_insert_materialization() -%}
    {{ return(adapter.dispatch('delete_insert_materialization', 'growthops')()) }}
{%- endmacro %}

{% macro default__delete_insert_materialization() -%}
    {{ return('table') }}
{%- endmacro %}

{% macro duckdb__delete_insert_materialization() -%}
    {{ return('incremental') }}
{%- endmacro %}
