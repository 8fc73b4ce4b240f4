-- One row per currency x rate date: the USD value of one unit from that date until the next
-- rate of the currency (valid_to, exclusive; NULL while no later rate exists). An amount
-- dated d converts at the period holding d (fx_rate_in_force): the rate of d, or the latest
-- earlier one; before a currency's first rate there is none, never a silent zero. The feed
-- is "USD per unit", so USD is 1 by definition, on every date: its rows are not needed.
with

rates as (

    select
        currency,
        usd_per_unit,
        rate_date as valid_from,
        lead(rate_date) over (partition by currency order by rate_date) as valid_to
    from {{ ref('stg_channel__fx_rates') }}
    where currency != 'USD'

),

usd as (

    select
        'USD' as currency,
        cast(1 as decimal(18, 8)) as usd_per_unit,
        cast('1900-01-01' as date) as valid_from,
        cast(null as date) as valid_to

),

final as (

    select * from rates
    union all
    select * from usd

)

select * from final
