{#- Where the models read raw from. DuckDB: the raw schema of the pipeline file (nothing to
    do). Spark: one view per raw source over the lake (growthops.lake). A data table (source
    meta `lake: parts`) reads its Parquet parts, only those the ingest committed (the
    lake_parts snapshot); a bookkeeping table reads its snapshot in lake/_catalog/. The lake's
    folder is the session's `spark.growthops.lake` setting (profiles.yml), substituted by
    Spark, so no path is written into the SQL. -#}
{% macro register_lake() -%}
    {{ return(adapter.dispatch('register_lake', 'growthops')()) }}
{%- endmacro %}

{% macro default__register_lake() -%}
{%- endmacro %}

{% macro spark__register_lake() -%}
    {%- if execute -%}
        {%- do run_query('create schema if not exists raw') -%}
        {%- set lake = '${spark.growthops.lake}' -%}
        {%- for source in graph.sources.values() if source.source_name == 'raw' -%}
            {%- if source.meta.get('lake') == 'parts' -%}
                {%- set body = 'select * from parquet.`' ~ lake ~ '/' ~ source.name ~ '`'
                    ~ ' where part_id in (select part_id from parquet.`' ~ lake
                    ~ '/_catalog/lake_parts` where status = \'visible\')' -%}
            {%- else -%}
                {%- set body = 'select * from parquet.`' ~ lake ~ '/_catalog/' ~ source.name ~ '`' -%}
            {%- endif -%}
            {%- do run_query('create or replace view raw.' ~ source.name ~ ' as ' ~ body) -%}
        {%- endfor -%}
    {%- endif -%}
{%- endmacro %}
