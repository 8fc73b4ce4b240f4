{#- md5 over the '|'-joined text of the fields, NULL spelled out (dbt_utils' recipe; no hub here). -#}
{% macro surrogate_key(fields) -%}
    {%- set parts = [] -%}
    {%- for f in fields -%}
        {%- do parts.append("coalesce(cast(" ~ f ~ " as " ~ dbt.type_string() ~ "), '_null_')") -%}
        {%- if not loop.last %}{%- do parts.append("'|'") -%}{% endif -%}
    {%- endfor -%}
    {{ dbt.hash(dbt.concat(parts)) }}
{%- endmacro %}
