-- One row per period (a reporting day, or an ISO week from Monday) x content item:
-- mart_content_daily summed over the period, with its rates over the sums.
with

period_units as (

    {{ reporting_period_units() }}

),

content as (

    select * from {{ ref('mart_content_daily') }}

),

dated as (

    select
        period_units.period_unit,
        {{ reporting_period_start('period_units.period_unit', 'content.report_date') }} as period_start,
        content.content_id,
        content.content_platform,
        content.content_type,
        content.author,
        content.title,
        content.views,
        content.likes,
        content.comments,
        content.shares,
        content.favorites,
        content.app_views,
        content.new_users_attributed,
        content.signups_attributed,
        content.activated_attributed
    from content
    cross join period_units

),

summed as (

    select
        period_unit,
        period_start,
        content_id,
        max(content_platform) as content_platform,
        max(content_type) as content_type,
        max(author) as author,
        max(title) as title,
        sum(views) as views,
        sum(likes) as likes,
        sum(comments) as comments,
        sum(shares) as shares,
        sum(favorites) as favorites,
        sum(app_views) as app_views,
        sum(new_users_attributed) as new_users_attributed,
        sum(signups_attributed) as signups_attributed,
        sum(activated_attributed) as activated_attributed
    from dated
    group by period_unit, period_start, content_id

),

final as (

    select
        period_unit,
        period_start,
        content_id,
        content_platform,
        content_type,
        author,
        title,
        cast(views as {{ dbt.type_bigint() }}) as views,
        cast(likes as {{ dbt.type_bigint() }}) as likes,
        cast(comments as {{ dbt.type_bigint() }}) as comments,
        cast(shares as {{ dbt.type_bigint() }}) as shares,
        cast(favorites as {{ dbt.type_bigint() }}) as favorites,
        cast(app_views as {{ dbt.type_bigint() }}) as app_views,
        cast(new_users_attributed as {{ dbt.type_bigint() }}) as new_users_attributed,
        cast(signups_attributed as {{ dbt.type_bigint() }}) as signups_attributed,
        cast(activated_attributed as {{ dbt.type_bigint() }}) as activated_attributed,
        {{ safe_divide('likes + comments + shares + favorites', 'views') }} as engagement_rate
    from summed

)

select * from final
