{{
    config(
        materialized=growthops.delete_insert_materialization(),
        incremental_strategy='append',
        on_schema_change='fail'
    )
}}
-- One row per changed app file x anonymous id x user id seen in it, pending until a run
-- consumes it: the change log an incremental run starts from (DECISIONS.md "An incremental
-- run by affected persons").
--
-- A file changed when its version (source_file x load_id x rows) in staging is not the
-- one in int_events_enriched - a set difference, so neither the order of load ids nor any
-- clock decides. Both sides are logged: the ids in the new version, and the ids in the rows
-- it replaces (read from int_events_enriched before it is rebuilt: the pre-image), each
-- with the person its anonymous id was stitched to before this run (stitched_before), so
-- the persons who lose events or a device are recomputed too. int_events_enriched takes
-- this run's files from here; on-run-end (consume_changes) empties the log once every
-- model kept by person was built.
{%- set enriched = adapter.get_relation(this.database, this.schema, 'int_events_enriched') %}
{%- set stitched = adapter.get_relation(this.database, this.schema, 'int_anonymous_ids_stitched') %}
with

arrived as (

    select * from {{ ref('stg_app__events') }}

),

changed_files as (

    select distinct versions.source_file
    from (
        select
            arrived.source_file,
            arrived.load_id,
            count(*) as events
        from arrived
        group by arrived.source_file, arrived.load_id
        {% if enriched is not none %}
            except
            select
                processed.source_file,
                processed.load_id,
                count(*) as events
            from {{ enriched }} as processed
            group by processed.source_file, processed.load_id
        {% endif %}
    ) as versions

),

-- the ids only when a model kept by person will read them (not on a first build or a
-- full refresh, which rebuild every person: int_events_enriched needs the files alone)
{%- set with_ids = growthops.kept_by_person_exists() %}
sides as (

    select distinct
        arrived.source_file,
        {% if with_ids -%}
            arrived.anonymous_id,
            arrived.user_id
        {%- else -%}
            cast(null as {{ dbt.type_string() }}) as anonymous_id,
            cast(null as {{ dbt.type_string() }}) as user_id
        {%- endif %}
    from arrived
    inner join changed_files
        on arrived.source_file = changed_files.source_file
    {% if enriched is not none and with_ids %}
        union
        select
            replaced.source_file,
            replaced.anonymous_id,
            replaced.user_id
        from {{ enriched }} as replaced
        inner join changed_files
            on replaced.source_file = changed_files.source_file
    {% endif %}

),

final as (

    select
        sides.source_file,
        sides.anonymous_id,
        sides.user_id,
        {% if stitched is not none and with_ids -%}
            stitched.person_key
        {%- else -%}
            cast(null as {{ dbt.type_string() }})
        {%- endif %} as stitched_before,
        '{{ invocation_id }}' as invocation_id
    from sides
    {% if stitched is not none and with_ids %}
        left join {{ stitched }} as stitched
            on sides.anonymous_id = stitched.anonymous_id
    {% endif %}

)

select * from final
