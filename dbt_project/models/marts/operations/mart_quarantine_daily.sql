-- One row per day (reporting time zone) x family x file x rule: what the door held back and
-- why. Row rules come from the quarantined rows; a file refused or held whole is one row
-- with rule 'file_rejected' / 'file_held' and the reason the door gave.
with

held_rows as (

    select
        {{ reporting_date('quarantined_at') }} as quarantine_date,
        family,
        source_file,
        rule,
        count(*) as quarantined_rows,
        min(reason) as example_reason
    from {{ ref('stg_pipeline__quarantined_rows') }}
    group by {{ reporting_date('quarantined_at') }}, family, source_file, rule

),

held_files as (

    select
        {{ reporting_date('loaded_at') }} as quarantine_date,
        family,
        source_file,
        'file_' || status as rule,
        0 as quarantined_rows,
        min(reason) as example_reason
    from {{ ref('stg_pipeline__file_loads') }}
    where status in ('rejected', 'held')
    group by {{ reporting_date('loaded_at') }}, family, source_file, status

),

final as (

    select
        quarantine_date,
        family,
        source_file,
        rule,
        cast(quarantined_rows as {{ dbt.type_bigint() }}) as quarantined_rows,
        example_reason
    from held_rows
    union all
    select
        quarantine_date,
        family,
        source_file,
        rule,
        cast(quarantined_rows as {{ dbt.type_bigint() }}) as quarantined_rows,
        example_reason
    from held_files

)

select * from final
