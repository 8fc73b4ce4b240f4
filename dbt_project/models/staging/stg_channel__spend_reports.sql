-- One row per report row of the file that currently reports its canonical grain (platform x
-- account x report date x campaign x ad group x ad x keyword). A file at a finer grain
-- (breakdowns by device, hour, age, placement...) keeps all its rows: int_spend_converted
-- sums them. When two files report the same grain (a platform restated a day under a new
-- file name), every row of the later file wins and the earlier file's rows of that grain
-- drop: "latest version wins" is decided per file, never per row of one file.
with

source as (

    select * from {{ source('raw', 'channel_spend') }}

),

versioned as (

    select
        *,
        dense_rank() over (
            partition by
                platform, account_id, report_date, campaign_id, ad_group_id,
                coalesce(ad_id, ''), coalesce(keyword_id, '')
            order by load_id desc, source_file desc
        ) as version_rank
    from source

),

renamed as (

    select
        {{ surrogate_key([
            'platform', 'account_id', 'report_date', 'campaign_id', 'ad_group_id', 'ad_id', 'keyword_id'
        ]) }} as spend_key,
        report_date,
        platform,
        account_id,
        account_name,
        campaign_id,
        campaign_name,
        ad_group_id,
        ad_group_name,
        ad_id,
        ad_name,
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
        source_file,
        row_number as source_row_number
    from versioned
    where version_rank = 1

)

select * from renamed
