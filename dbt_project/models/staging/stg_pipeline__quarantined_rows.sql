-- One row per received row a rule held back at the door.
with

source as (

    select * from {{ source('raw', 'quarantine_rows') }}

),

renamed as (

    select
        load_id,
        family,
        source_file,
        row_number,
        rule,
        reason,
        quarantined_at
    from source

)

select * from renamed
