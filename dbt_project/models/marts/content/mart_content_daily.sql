-- One row per content item x day: what the platform reported (stat_date, the platform's
-- day), what happened in the app (reporting-time-zone day) and which sign-ups and
-- activations the item earned (int_content_attribution: utm_content wins over the first
-- content view). Every item has a row for every day from its publication (or its first
-- data, if earlier) to the last day with data, zeros where nothing happened.
with

items as (

    select * from {{ ref('stg_content__items') }}

),

stats as (

    select * from {{ ref('stg_content__daily_stats') }}

),

app_daily as (

    select
        content_id,
        event_date as report_date,
        sum(case when event_name = '{{ var("content_view_event") }}' then 1 else 0 end)
            as app_views,
        count(distinct case
            when event_name = '{{ var("content_view_event") }}' then person_key
        end) as app_unique_viewers,
        sum(case when event_name = '{{ var("content_like_event") }}' then 1 else 0 end) as app_likes,
        sum(case when event_name = '{{ var("content_comment_event") }}' then 1 else 0 end) as app_comments,
        sum(case when event_name = '{{ var("content_share_event") }}' then 1 else 0 end) as app_shares
    from {{ ref('int_content_app_events') }}
    group by content_id, event_date

),

attribution as (

    select * from {{ ref('int_content_attribution') }}

),

new_users as (

    select
        content_id,
        first_seen_date as report_date,
        count(*) as new_users_attributed
    from attribution
    where attribution_method = 'utm_content'
    group by content_id, first_seen_date

),

signups as (

    select
        content_id,
        signed_up_date as report_date,
        sum(case when attribution_method = 'utm_content' then 1 else 0 end) as signups_attributed_utm,
        sum(case when attribution_method = 'first_view' then 1 else 0 end) as signups_attributed_first_view
    from attribution
    where signed_up_date is not null
    group by content_id, signed_up_date

),

activations as (

    select
        content_id,
        activated_date as report_date,
        count(*) as activated_attributed
    from attribution
    where activated_date is not null
    group by content_id, activated_date

),

content_days as (

    select
        content_id,
        stat_date as report_date
    from stats
    union
    select
        content_id,
        report_date
    from app_daily
    union
    select
        content_id,
        report_date
    from new_users
    union
    select
        content_id,
        report_date
    from signups
    union
    select
        content_id,
        report_date
    from activations

),

-- bounds feeds the day_spine macro (sqlfluff renders macros as stubs, so it looks unused)
bounds as (  -- noqa: ST03

    select
        min(report_date) as first_date,
        max(report_date) as last_date
    from content_days

),

spine as (

    {{ day_spine('(select first_date from bounds)', '(select last_date from bounds)') }}

),

content_ids as (

    select
        content_id,
        min(report_date) as first_data_date
    from content_days
    group by content_id

),

stats_platform as (

    select
        content_id,
        max(content_platform) as content_platform
    from stats
    group by content_id

),

content as (

    select
        coalesce(items.content_id, content_ids.content_id) as content_id,
        coalesce(items.content_platform, stats_platform.content_platform) as content_platform,
        items.content_type,
        items.author,
        items.title,
        items.published_at,
        {{ reporting_date('items.published_at') }} as published_date,
        content_ids.first_data_date
    from items
    full outer join content_ids
        on items.content_id = content_ids.content_id
    left join stats_platform
        on coalesce(items.content_id, content_ids.content_id) = stats_platform.content_id

),

grid as (

    select
        spine.date_day as report_date,
        content.*
    from content
    inner join spine
        on spine.date_day >= case
            when content.published_date is null then content.first_data_date
            when content.first_data_date is null then content.published_date
            when content.first_data_date < content.published_date then content.first_data_date
            else content.published_date
        end

),

joined as (

    select
        grid.report_date,
        grid.content_id,
        grid.content_platform,
        grid.content_type,
        grid.author,
        grid.title,
        grid.published_at,
        stats.content_id is not null as has_platform_stats,
        coalesce(stats.views, 0) as views,
        coalesce(stats.likes, 0) as likes,
        coalesce(stats.comments, 0) as comments,
        coalesce(stats.shares, 0) as shares,
        coalesce(stats.favorites, 0) as favorites,
        coalesce(app_daily.app_views, 0) as app_views,
        coalesce(app_daily.app_unique_viewers, 0) as app_unique_viewers,
        coalesce(app_daily.app_likes, 0) as app_likes,
        coalesce(app_daily.app_comments, 0) as app_comments,
        coalesce(app_daily.app_shares, 0) as app_shares,
        coalesce(new_users.new_users_attributed, 0) as new_users_attributed,
        coalesce(signups.signups_attributed_utm, 0) as signups_attributed_utm,
        coalesce(signups.signups_attributed_first_view, 0) as signups_attributed_first_view,
        coalesce(activations.activated_attributed, 0) as activated_attributed
    from grid
    left join stats
        on grid.content_id = stats.content_id and grid.report_date = stats.stat_date
    left join app_daily
        on grid.content_id = app_daily.content_id and grid.report_date = app_daily.report_date
    left join new_users
        on grid.content_id = new_users.content_id and grid.report_date = new_users.report_date
    left join signups
        on grid.content_id = signups.content_id and grid.report_date = signups.report_date
    left join activations
        on grid.content_id = activations.content_id and grid.report_date = activations.report_date

),

final as (

    select
        report_date,
        content_id,
        content_platform,
        content_type,
        author,
        title,
        published_at,
        has_platform_stats,
        cast(views as {{ dbt.type_bigint() }}) as views,
        cast(likes as {{ dbt.type_bigint() }}) as likes,
        cast(comments as {{ dbt.type_bigint() }}) as comments,
        cast(shares as {{ dbt.type_bigint() }}) as shares,
        cast(favorites as {{ dbt.type_bigint() }}) as favorites,
        {{ safe_divide('likes + comments + shares + favorites', 'views') }} as engagement_rate,
        {{ safe_divide('shares', 'views') }} as share_rate,
        cast(app_views as {{ dbt.type_bigint() }}) as app_views,
        cast(app_unique_viewers as {{ dbt.type_bigint() }}) as app_unique_viewers,
        cast(app_likes as {{ dbt.type_bigint() }}) as app_likes,
        cast(app_comments as {{ dbt.type_bigint() }}) as app_comments,
        cast(app_shares as {{ dbt.type_bigint() }}) as app_shares,
        cast(new_users_attributed as {{ dbt.type_bigint() }}) as new_users_attributed,
        cast(signups_attributed_utm as {{ dbt.type_bigint() }}) as signups_attributed_utm,
        cast(signups_attributed_first_view as {{ dbt.type_bigint() }}) as signups_attributed_first_view,
        cast(signups_attributed_utm + signups_attributed_first_view as {{ dbt.type_bigint() }}) as signups_attributed,
        cast(activated_attributed as {{ dbt.type_bigint() }}) as activated_attributed
    from joined

)

select * from final
