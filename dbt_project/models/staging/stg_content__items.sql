-- One row per content item (latest load wins).
with

source as (

    select * from {{ source('raw', 'content_items') }}

),

ranked as (

    select
        *,
        row_number() over (partition by content_id order by load_id desc, row_number desc) as version_rank
    from source

),

renamed as (

    select
        content_id,
        platform as content_platform,
        content_type,
        title,
        author,
        published_at
    from ranked
    where version_rank = 1

)

select * from renamed
