{#- Incremental by person (DECISIONS.md "An incremental run by affected persons").
    A run works out the persons whose events changed (int_affected_persons, from the change
    logs int_event_changes and int_revenue_changes); each model kept by person deletes those
    persons' rows and inserts them again, recomputed from all of their events. Recomputing a
    superset of the changed persons is always correct, so a run that fails leaves the logs
    pending and the next run recomputes them. On engines without delete (Spark on Parquet)
    these models are tables rebuilt every run (delete_insert_materialization). -#}

{#- The strategy: delete the affected persons' rows, insert the new ones. dbt's delete+insert
    deletes only keys present in the new rows, so a person who vanished (anon:X after a late
    identify moved X to a user) would stay. -#}
{% macro get_incremental_replace_affected_sql(arg_dict) %}
    {%- set key = arg_dict['unique_key'] -%}
    {%- set columns = get_quoted_csv(arg_dict['dest_columns'] | map(attribute='name')) -%}
    delete from {{ arg_dict['target_relation'] }}
    where {{ key }} in (select person_key from {{ ref('int_affected_persons') }});
    insert into {{ arg_dict['target_relation'] }} ({{ columns }})
    select {{ columns }} from {{ arg_dict['temp_relation'] }}
{% endmacro %}

{#- A model's input rows: on an incremental run only the affected persons' rows of
    `relation` (the model's own result for everyone else stays as it is). Both refs are
    taken on every path, so dbt orders the model after int_affected_persons. -#}
{% macro affected_rows(relation, key='person_key') -%}
    {%- set affected = ref('int_affected_persons') -%}
    {%- if is_incremental() -%}
        (select * from {{ relation }} where {{ key }} in (select person_key from {{ affected }}))
    {%- else -%}
        {{ relation }}
    {%- endif -%}
{%- endmacro %}

{#- The person events a model kept by person reads: the affected persons' events (built once
    per run, int_events_this_run) on an incremental run, all of them otherwise. (The strategy
    reads int_affected_persons: the ref here makes it a dependency of every such model.) -#}
{% macro person_events() -%}
    {%- set affected = ref('int_affected_persons') -%}
    {%- set this_run = ref('int_events_this_run') -%}
    {%- set everyone = ref('int_person_events') -%}
    {{ return(this_run if is_incremental() else everyone) }}
{%- endmacro %}

{#- on-run-end: the changes are consumed once every model kept by person was built in this
    run and nothing failed; otherwise they stay pending for the next run. -#}
{% macro consume_changes(results) -%}
    {{ return(adapter.dispatch('consume_changes', 'growthops')(results)) }}
{%- endmacro %}

{% macro default__consume_changes(results) -%}
    {#- tables rebuilt every run: nothing is pending -#}
{%- endmacro %}

{% macro duckdb__consume_changes(results) -%}
    {%- if not execute -%}{{ return('') }}{%- endif -%}
    {%- set built = {} -%}
    {%- for result in results -%}
        {%- if result.status in ('error', 'fail', 'skipped', 'runtime error') -%}
            {{ return('') }}
        {%- endif -%}
        {%- do built.update({result.node.unique_id: result.status}) -%}
    {%- endfor -%}
    {%- set logs = {} -%}
    {%- for node in graph.nodes.values() if node.resource_type == 'model' -%}
        {%- if node.config.get('incremental_strategy') == 'replace_affected'
              and built.get(node.unique_id) != 'success' -%}
            {{ return('') }}
        {%- endif -%}
        {%- if node.name in ('int_event_changes', 'int_revenue_changes') -%}
            {%- do logs.update({node.name: node.relation_name}) -%}
        {%- endif -%}
    {%- endfor -%}
    {%- if logs | length == 2 -%}
        delete from {{ logs['int_event_changes'] }};
        update {{ logs['int_revenue_changes'] }} set is_pending = false where is_pending
    {%- endif -%}
{%- endmacro %}

{#- Whether this run may recompute by person: a model kept by person exists as an
    incremental table and this is no full refresh. When not (the first build, a full
    refresh, Spark), every such model is built from all events and the per-person change
    rows would be built for nobody. -#}
{% macro kept_by_person_exists() -%}
    {%- if not execute or flags.FULL_REFRESH or growthops.delete_insert_materialization() != 'incremental' -%}
        {{ return(false) }}
    {%- endif -%}
    {%- for node in graph.nodes.values()
          if node.resource_type == 'model' and node.config.get('incremental_strategy') == 'replace_affected' -%}
        {%- if adapter.get_relation(node.database, node.schema, node.alias) is not none -%}
            {{ return(true) }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(false) }}
{%- endmacro %}
