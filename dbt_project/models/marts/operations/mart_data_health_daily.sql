-- One row per delivery day (reporting time zone) x family x source (the reader: landing
-- folder or file format): the files offered to the door that day by how they ended, and
-- their rows. A file's row is its last outcome (a held file that loaded later counts as
-- loaded on the day it loaded).
with

loads as (

    select
        *,
        {{ reporting_date('loaded_at') }} as delivery_date
    from {{ ref('stg_pipeline__file_loads') }}

),

final as (

    select
        delivery_date,
        family,
        source_name,
        cast(count(*) as {{ dbt.type_bigint() }}) as files,
        cast(sum(case when status = 'loaded' then 1 else 0 end) as {{ dbt.type_bigint() }}) as files_loaded,
        cast(sum(case when status = 'held' then 1 else 0 end) as {{ dbt.type_bigint() }}) as files_held,
        cast(sum(case when status = 'rejected' then 1 else 0 end) as {{ dbt.type_bigint() }}) as files_rejected,
        cast(sum(case when status = 'replaced' then 1 else 0 end) as {{ dbt.type_bigint() }}) as files_replaced,
        cast(sum(rows_in) as {{ dbt.type_bigint() }}) as rows_in,
        cast(sum(rows_loaded) as {{ dbt.type_bigint() }}) as rows_loaded,
        cast(sum(rows_quarantined) as {{ dbt.type_bigint() }}) as rows_quarantined,
        max(loaded_at) as last_delivery_at
    from loads
    group by delivery_date, family, source_name

)

select * from final
