{#- One row per <dimension> x day: mart_content_daily summed over the dimension's items, rates
    recomputed from the sums; app_unique_viewers is recounted from the events (a person
    viewing two items of the same author / platform is one viewer, not two). -#}
{% macro content_rollup(dimension) %}
with

content_daily as (

    select * from {{ ref('mart_content_daily') }}

),

items as (

    select * from {{ ref('stg_content__items') }}

),

viewers as (

    select
        events.event_date as report_date,
        coalesce(items.{{ dimension }}, 'unknown') as {{ dimension }},
        count(distinct events.person_key) as app_unique_viewers
    from {{ ref('int_content_app_events') }} as events
    left join items
        on events.content_id = items.content_id
    where events.event_name = '{{ var("content_view_event") }}'
    group by events.event_date, coalesce(items.{{ dimension }}, 'unknown')

),

summed as (

    select
        report_date,
        coalesce({{ dimension }}, 'unknown') as {{ dimension }},
        count(*) as items,
        sum(case when {{ reporting_date('published_at') }} = report_date then 1 else 0 end) as items_published,
        sum(views) as views,
        sum(likes) as likes,
        sum(comments) as comments,
        sum(shares) as shares,
        sum(favorites) as favorites,
        sum(app_views) as app_views,
        sum(app_likes) as app_likes,
        sum(app_comments) as app_comments,
        sum(app_shares) as app_shares,
        sum(new_users_attributed) as new_users_attributed,
        sum(signups_attributed_utm) as signups_attributed_utm,
        sum(signups_attributed_first_view) as signups_attributed_first_view,
        sum(signups_attributed) as signups_attributed,
        sum(activated_attributed) as activated_attributed
    from content_daily
    group by report_date, coalesce({{ dimension }}, 'unknown')

),

final as (

    select
        summed.report_date,
        summed.{{ dimension }},
        cast(summed.items as {{ dbt.type_bigint() }}) as items,
        cast(summed.items_published as {{ dbt.type_bigint() }}) as items_published,
        cast(summed.views as {{ dbt.type_bigint() }}) as views,
        cast(summed.likes as {{ dbt.type_bigint() }}) as likes,
        cast(summed.comments as {{ dbt.type_bigint() }}) as comments,
        cast(summed.shares as {{ dbt.type_bigint() }}) as shares,
        cast(summed.favorites as {{ dbt.type_bigint() }}) as favorites,
        {{ safe_divide('summed.likes + summed.comments + summed.shares + summed.favorites', 'summed.views') }}
            as engagement_rate,
        {{ safe_divide('summed.shares', 'summed.views') }} as share_rate,
        cast(summed.app_views as {{ dbt.type_bigint() }}) as app_views,
        cast(coalesce(viewers.app_unique_viewers, 0) as {{ dbt.type_bigint() }}) as app_unique_viewers,
        cast(summed.app_likes as {{ dbt.type_bigint() }}) as app_likes,
        cast(summed.app_comments as {{ dbt.type_bigint() }}) as app_comments,
        cast(summed.app_shares as {{ dbt.type_bigint() }}) as app_shares,
        cast(summed.new_users_attributed as {{ dbt.type_bigint() }}) as new_users_attributed,
        cast(summed.signups_attributed_utm as {{ dbt.type_bigint() }}) as signups_attributed_utm,
        cast(summed.signups_attributed_first_view as {{ dbt.type_bigint() }}) as signups_attributed_first_view,
        cast(summed.signups_attributed as {{ dbt.type_bigint() }}) as signups_attributed,
        cast(summed.activated_attributed as {{ dbt.type_bigint() }}) as activated_attributed
    from summed
    left join viewers
        on summed.report_date = viewers.report_date
        and summed.{{ dimension }} = viewers.{{ dimension }}

)

select * from final
{% endmacro %}
