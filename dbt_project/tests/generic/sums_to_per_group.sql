{#- `column_name` sums to `total` (within `tolerance`) in every group of `group_by`: e.g. a
    conversion's attribution credits in each model sum to 1. -#}
{% test sums_to_per_group(model, column_name, group_by, total=1, tolerance=0.000001) %}
select {{ group_by | join(', ') }}, sum({{ column_name }}) as total
from {{ model }}
group by {{ group_by | join(', ') }}
having abs(sum({{ column_name }}) - {{ total }}) > {{ tolerance }}
{% endtest %}
