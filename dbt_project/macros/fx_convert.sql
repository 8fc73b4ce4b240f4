{#- `amount` converted with two FX periods of int_fx_rate_periods joined by
    fx_rate_in_force: `from_rate` for its own currency, `to_rate` for the reporting currency.
    The rates are USD per unit, so amount x from / to; kept at micros. One home for the
    formula spend and revenue share. -#}
{% macro fx_convert(amount, from_rate, to_rate) -%}
    cast({{ amount }} * {{ from_rate }}.usd_per_unit / {{ to_rate }}.usd_per_unit as decimal(18, 6))
{%- endmacro %}
