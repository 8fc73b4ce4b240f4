-- One row per person acquired through an ad platform (last non-direct touch with a
-- platform): the ad unit credited, and what the person did in the first 7 / 30 days after
-- the touch. Windows are whole 24-hour blocks from acquired_at (as in the value curves);
-- D7 retained = active on the 7th reporting day after the acquisition day (the growth
-- mart's convention).
with

persons as (

    select * from {{ ref('int_persons') }}

),

acquired as (

    select * from persons
    where acquisition_platform is not null

),

retained_d7 as (

    select distinct acquired.person_key
    from acquired
    inner join {{ ref('int_growth_person_days') }} as person_days
        on acquired.person_key = person_days.person_key
        and person_days.activity_date = {{ dbt.dateadd('day', 7, 'acquired.acquisition_date') }}

),

-- invitees who signed up within 7 days of their inviter's acquisition touch
referrals_d7 as (

    select
        acquired.person_key,
        count(*) as referral_signups_d7
    from acquired
    inner join persons as invitees
        on acquired.person_key = invitees.referrer_user_id
    where invitees.signed_up_at < {{ dbt.dateadd('day', 7, 'acquired.acquired_at') }}
    group by acquired.person_key

),

final as (

    select
        acquired.person_key,
        acquired.acquired_at,
        acquired.acquisition_date,
        acquired.acquisition_platform as platform,
        acquired.acquisition_campaign_id as campaign_id,
        acquired.acquisition_ad_group_id as ad_group_id,
        acquired.acquisition_keyword_id as keyword_id,
        acquired.signed_up_at is not null as is_signed_up,
        coalesce(
            acquired.activated_at < {{ dbt.dateadd('day', 7, 'acquired.acquired_at') }}, false
        ) as is_activated_d7,
        retained_d7.person_key is not null as is_retained_d7,
        coalesce(
            acquired.first_order_at < {{ dbt.dateadd('day', 7, 'acquired.acquired_at') }}, false
        ) as is_payer_d7,
        acquired.revenue_d7,
        acquired.revenue_d30,
        coalesce(referrals_d7.referral_signups_d7, 0) as referral_signups_d7
    from acquired
    left join retained_d7
        on acquired.person_key = retained_d7.person_key
    left join referrals_d7
        on acquired.person_key = referrals_d7.person_key

)

select * from final
