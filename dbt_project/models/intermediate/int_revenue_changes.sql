{{
    config(
        materialized=growthops.delete_insert_materialization(),
        incremental_strategy='delete+insert',
        unique_key='message_id',
        on_schema_change='fail'
    )
}}
-- One row per order: the converted revenue the person-level models last applied, and
-- whether a run is still to apply it (is_pending). An FX restatement changes old orders'
-- converted revenue without any file changing; their owners are affected persons until a
-- run consumes the change (on-run-end, consume_changes).
with

converted as (

    select
        message_id,
        anonymous_id,
        user_id,
        revenue
    from {{ ref('int_revenue_converted') }}

),

final as (

    select
        converted.message_id,
        converted.anonymous_id,
        converted.user_id,
        converted.revenue,
        true as is_pending
    from converted
    {% if is_incremental() %}
        left join {{ this }} as applied
            on converted.message_id = applied.message_id
        where applied.message_id is null
            or applied.revenue is distinct from converted.revenue
    {% endif %}

)

select * from final
