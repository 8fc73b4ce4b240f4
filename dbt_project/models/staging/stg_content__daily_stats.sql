-- One row per stat date x content item (latest load wins).
with

source as (

    select * from {{ source('raw', 'content_daily_stats') }}

),

ranked as (

    select
        *,
        row_number() over (partition by stat_date, content_id order by load_id desc, row_number desc) as version_rank
    from source

),

renamed as (

    select
        stat_date,
        content_id,
        platform as content_platform,
        views,
        likes,
        comments,
        shares,
        favorites
    from ranked
    where version_rank = 1

)

select * from renamed
