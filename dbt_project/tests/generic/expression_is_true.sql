{#- Every row satisfies `expression` (dbt_utils.expression_is_true, written here: no hub). -#}
{% test expression_is_true(model, expression, where=None) %}
select * from {{ model }}
where not ({{ expression }}){% if where %} and ({{ where }}){% endif %}
{% endtest %}
