-- One row per spend report row, with spend converted into the reporting currency at the
-- FX rate of the report date (or the latest earlier rate). A row with no rate keeps NULL
-- and fails the test fx_rate_available: never a silent zero.
with

spend as (

    select * from {{ ref('stg_channel__spend_reports') }}

),

rates as (

    select * from {{ ref('stg_channel__fx_rates') }}

),

rate_candidates as (

    select
        spend.spend_report_key,
        rates.currency,
        rates.usd_per_unit,
        row_number() over (
            partition by spend.spend_report_key, rates.currency order by rates.rate_date desc
        ) as recency
    from spend
    inner join rates
        on spend.report_date >= rates.rate_date
        and rates.currency in (spend.account_currency, '{{ var("reporting_currency") }}')

),

account_rate as (

    select
        rate_candidates.spend_report_key,
        rate_candidates.usd_per_unit
    from rate_candidates
    inner join spend
        on rate_candidates.spend_report_key = spend.spend_report_key
        and rate_candidates.currency = spend.account_currency
    where rate_candidates.recency = 1

),

reporting_rate as (

    select
        spend_report_key,
        usd_per_unit
    from rate_candidates
    where currency = '{{ var("reporting_currency") }}' and recency = 1

)

select
    spend.*,
    account_rate.usd_per_unit as account_usd_per_unit,
    reporting_rate.usd_per_unit as reporting_usd_per_unit,
    cast(
        spend.spend_account_currency * account_rate.usd_per_unit / reporting_rate.usd_per_unit
        as decimal(18, 6)
    ) as spend
from spend
left join account_rate
    on spend.spend_report_key = account_rate.spend_report_key
left join reporting_rate
    on spend.spend_report_key = reporting_rate.spend_report_key
