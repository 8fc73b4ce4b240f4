{#- Join condition: the FX period of `periods` (int_fx_rate_periods) in force for an amount
    in `currency` dated `on_date`. One home for the rule "the rate of the day, or the latest
    earlier one" that spend and revenue share. -#}
{% macro fx_rate_in_force(periods, currency, on_date) -%}
    {{ periods }}.currency = {{ currency }}
    and {{ on_date }} >= {{ periods }}.valid_from
    and ({{ periods }}.valid_to is null or {{ on_date }} < {{ periods }}.valid_to)
{%- endmacro %}
