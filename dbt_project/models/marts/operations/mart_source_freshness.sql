-- One row per source (the reader: landing folder or file format): when it last delivered a
-- file the door accepted, and how far behind the newest delivery of any source that is.
with

loads as (

    select
        family,
        source_name,
        count(*) as files,
        max(loaded_at) as last_delivery_at
    from {{ ref('stg_pipeline__file_loads') }}
    where status in ('loaded', 'replaced')
    group by family, source_name

),

newest as (

    select max(last_delivery_at) as newest_at from loads

),

behind as (

    select
        loads.*,
        {{ dbt.datediff('loads.last_delivery_at', 'newest.newest_at', 'hour') }} as hours_behind
    from loads
    cross join newest

),

final as (

    select
        family,
        source_name,
        cast(files as {{ dbt.type_bigint() }}) as files,
        last_delivery_at,
        cast(hours_behind as {{ dbt.type_bigint() }}) as hours_behind,
        hours_behind > {{ var('late_source_hours') }} as is_late
    from behind

)

select * from final
