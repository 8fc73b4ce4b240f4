-- One row per platform x account x report date x campaign x ad group x keyword: if two
-- files report the same grain (a platform restated the day under a new file name), the
-- latest load wins.
with

source as (

    select * from {{ source('raw', 'channel_spend') }}

),

ranked as (

    select
        *,
        row_number() over (
            partition by platform, account_id, report_date, campaign_id, ad_group_id, coalesce(keyword_id, '')
            order by load_id desc, row_number desc
        ) as version_rank
    from source

),

renamed as (

    select
        {{ surrogate_key(['platform', 'account_id', 'report_date', 'campaign_id', 'ad_group_id', 'keyword_id']) }}
            as spend_report_key,
        report_date,
        platform,
        account_id,
        account_name,
        campaign_id,
        campaign_name,
        ad_group_id,
        ad_group_name,
        keyword_id,
        keyword_text,
        match_type,
        impressions,
        clicks,
        spend as spend_account_currency,
        currency as account_currency,
        conversions as platform_conversions,
        conversion_value as platform_conversion_value,
        load_id,
        source_file
    from ranked
    where version_rank = 1

)

select * from renamed
