-- One row per rate date x currency (latest load wins).
with

source as (

    select * from {{ source('raw', 'fx_rates') }}

),

ranked as (

    select
        *,
        row_number() over (partition by rate_date, currency order by load_id desc, row_number desc) as version_rank
    from source

),

renamed as (

    select
        rate_date,
        currency,
        usd_per_unit
    from ranked
    where version_rank = 1

)

select * from renamed
