-- One row per app event that carries revenue (orders): its amount converted from the
-- currency it was sent in into the reporting currency, at the FX rate of its day (reporting
-- zone) or the latest earlier rate - the rule spend follows. The ingest holds an order whose
-- currency has no rate yet, so NULL here means a rate went missing after it was loaded.
with

orders as (

    select
        message_id,
        source_file,
        anonymous_id,
        user_id,
        event_date,
        revenue as revenue_in_currency,
        upper(revenue_currency) as revenue_currency
    from {{ ref('int_events_enriched') }}
    where revenue is not null

),

rates as (

    select * from {{ ref('int_fx_rate_periods') }}

),

final as (

    select
        orders.message_id,
        orders.source_file,
        orders.anonymous_id,
        orders.user_id,
        orders.event_date,
        orders.revenue_in_currency,
        orders.revenue_currency,
        {{ fx_convert('orders.revenue_in_currency', 'order_rate', 'reporting_rate') }} as revenue
    from orders
    left join rates as order_rate
        on {{ fx_rate_in_force('order_rate', 'orders.revenue_currency', 'orders.event_date') }}
    left join rates as reporting_rate
        on {{ fx_rate_in_force('reporting_rate', "'" ~ var('reporting_currency') ~ "'", 'orders.event_date') }}

)

select * from final
