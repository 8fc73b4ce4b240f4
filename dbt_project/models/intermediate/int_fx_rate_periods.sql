-- One row per currency x rate date: the USD value of one unit from that date until the next
-- rate of the currency (valid_to, exclusive; NULL while no later rate exists). An amount
-- dated d converts at the period holding d (fx_rate_in_force): the rate of d, or the latest
-- earlier one; before a currency's first rate there is none, never a silent zero.
select
    currency,
    usd_per_unit,
    rate_date as valid_from,
    lead(rate_date) over (partition by currency order by rate_date) as valid_to
from {{ ref('stg_channel__fx_rates') }}
