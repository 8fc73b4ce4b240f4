{#- `amount` converted with two FX periods of int_fx_rate_periods joined by
    fx_rate_in_force: `from_rate` for its own currency, `to_rate` for the reporting currency.
    The rates are USD per unit, so amount x from / to; kept at micros. One home for the
    formula spend and revenue share.
    The amount is widened first: DECIMAL(18,6) x DECIMAL(18,8) overflowed DuckDB's 18 digits
    from a row worth 10,000 USD (~72,000 yuan). Reported in USD (to = 1) the product is exact decimal arithmetic
    rounded half up in every engine; another reporting currency divides, which DuckDB does
    in floating point (last-micro differences from an engine dividing exact decimals). -#}
{% macro fx_convert(amount, from_rate, to_rate) -%}
    {%- if var('reporting_currency') == 'USD' -%}
        cast(cast({{ amount }} as decimal(38, 6)) * {{ from_rate }}.usd_per_unit as decimal(18, 6))
    {%- else -%}
        cast(cast({{ amount }} as decimal(38, 6)) * {{ from_rate }}.usd_per_unit / {{ to_rate }}.usd_per_unit as decimal(18, 6))
    {%- endif -%}
{%- endmacro %}
