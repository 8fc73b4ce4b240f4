{#- Where the models read raw from. DuckDB: the raw schema of the pipeline file (nothing to
    do). Spark: one view per raw source over its folder in the lake; the folder is the
    session's `spark.growthops.lake` setting (profiles.yml), substituted by Spark, so no path is
    written into the SQL. -#}
{% macro register_lake() -%}
    {{ return(adapter.dispatch('register_lake', 'growthops')()) }}
{%- endmacro %}

{% macro default__register_lake() -%}
{%- endmacro %}

{% macro spark__register_lake() -%}
    {%- if execute -%}
        {%- do run_query('create schema if not exists raw') -%}
        {%- for source in graph.sources.values() if source.source_name == 'raw' -%}
            {%- do run_query(
                'create or replace view raw.' ~ source.name
                ~ ' as select * from parquet.`${spark.growthops.lake}/' ~ source.name ~ '`'
            ) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
