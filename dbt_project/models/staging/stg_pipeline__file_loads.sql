-- One row per file (content hash) and reader: how its last offer to the door ended.
with

source as (

    select * from {{ source('raw', 'ingest_manifest') }}

),

renamed as (

    select
        file_sha256,
        reader as source_name,
        family,
        source_file,
        file_bytes,
        load_id,
        status,
        rows_in,
        rows_loaded,
        rows_quarantined,
        reason,
        loaded_at
    from source

)

select * from renamed
