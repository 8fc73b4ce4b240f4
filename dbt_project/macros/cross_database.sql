{#- dbt's cross-database date macros on Spark, with DuckDB's semantics (dbt_project.yml
    dispatches the dbt namespace here first). dbt-spark's own dateadd goes through unix
    seconds and drops the milliseconds our events carry; its datediff rounds elapsed hours
    where DuckDB counts boundaries crossed. -#}

{#- `x + n datepart`, a timestamp (as DuckDB's date + interval), microseconds kept. -#}
{% macro spark__dateadd(datepart, interval, from_date_or_timestamp) -%}
    timestampadd({{ datepart }}, {{ interval }}, cast({{ from_date_or_timestamp }} as timestamp))
{%- endmacro %}

{#- The number of datepart boundaries from first to second (DuckDB's date_diff). -#}
{% macro spark__datediff(first_date, second_date, datepart) -%}
    {%- set micros = {'millisecond': 1000, 'second': 1000000, 'minute': 60000000,
                      'hour': 3600000000} -%}
    {%- if datepart == 'day' -%}
        datediff(cast({{ second_date }} as date), cast({{ first_date }} as date))
    {%- elif datepart == 'week' -%}
        (datediff(cast({{ second_date }} as date), cast({{ first_date }} as date)) div 7)
    {%- elif datepart == 'month' -%}
        ((year({{ second_date }}) * 12 + month({{ second_date }}))
            - (year({{ first_date }}) * 12 + month({{ first_date }})))
    {%- elif datepart == 'year' -%}
        (year({{ second_date }}) - year({{ first_date }}))
    {%- elif datepart in micros -%}
        (floor(unix_micros(cast({{ second_date }} as timestamp)) / {{ micros[datepart] }})
            - floor(unix_micros(cast({{ first_date }} as timestamp)) / {{ micros[datepart] }}))
    {%- else -%}
        {{ exceptions.raise_compiler_error("datediff: no Spark rule for datepart " ~ datepart) }}
    {%- endif -%}
{%- endmacro %}

{#- Seeds on Spark: dbt-spark's session mode formats each value into the SQL as '<value>',
    so an empty cell arrives as the text 'None' and a quote breaks the statement. The rows
    are written as literals instead: NULL for an empty cell, quotes and backslashes escaped. -#}
{% macro spark__load_csv_rows(model, agate_table) %}
    {%- set column_override = model['config'].get('column_types', {}) -%}
    {%- set statements = [] -%}
    {%- for chunk in agate_table.rows | batch(get_batch_size()) -%}
        {%- set sql -%}
            insert into {{ this.render() }} values
            {%- for row in chunk %}
                ({%- for col_name in agate_table.column_names -%}
                    {%- set type = column_override.get(col_name, adapter.convert_type(agate_table, loop.index0)) -%}
                    {%- set value = row[loop.index0] -%}
                    {%- if value is none -%}
                        cast(null as {{ type }})
                    {%- else -%}
                        cast('{{ value | string | replace("\\", "\\\\") | replace("'", "\\'") }}' as {{ type }})
                    {%- endif -%}
                    {{- ', ' if not loop.last -}}
                {%- endfor -%}){{ ',' if not loop.last }}
            {%- endfor %}
        {%- endset -%}
        {%- do adapter.add_query(sql, abridge_sql_log=True) -%}
        {%- do statements.append(sql) if loop.first -%}
    {%- endfor -%}
    {{ return(statements[0]) }}
{% endmacro %}

{#- string_agg in an order: dbt-spark's listagg ignores the order (Spark's collect_list has
    none), so the values are sorted by the order key first. Ascending keys only. -#}
{% macro spark__listagg(measure, delimiter_text, order_by_clause, limit_num) -%}
    {%- set key = (order_by_clause or '') | trim -%}
    {%- if key[:8] | lower == 'order by' -%}{%- set key = key[8:] | trim -%}{%- endif -%}
    {%- if key == '' or ',' in key or key.split() | length > 1 or limit_num -%}
        {{ exceptions.raise_compiler_error("listagg on Spark: one ascending order key, no limit") }}
    {%- endif -%}
    array_join(transform(
        array_sort(collect_list(struct({{ key }} as sort_key, {{ measure }} as item))),
        entry -> entry.item
    ), {{ delimiter_text }})
{%- endmacro %}
