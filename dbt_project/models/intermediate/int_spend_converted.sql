-- One row per canonical spend grain (platform x account x report date x campaign x ad group
-- x ad x keyword): the rows its current file reports at finer grains (device, hour, age...)
-- summed, at the source's precision (micros), with spend converted into the reporting
-- currency at the FX rate of the report date (or the latest earlier rate). A row with no
-- rate keeps NULL and fails the test below: never a silent zero.
with

report_rows as (

    select * from {{ ref('stg_channel__spend_reports') }}

),

rates as (

    select * from {{ ref('int_fx_rate_periods') }}

),

spend as (

    select
        spend_key,
        report_date,
        platform,
        account_id,
        campaign_id,
        ad_group_id,
        ad_id,
        keyword_id,
        account_currency,
        max(account_name) as account_name,
        max(campaign_name) as campaign_name,
        max(ad_group_name) as ad_group_name,
        max(ad_name) as ad_name,
        max(keyword_text) as keyword_text,
        max(match_type) as match_type,
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        cast(sum(spend_account_currency) as decimal(18, 6)) as spend_account_currency,
        -- summed as decimals: a float sum depends on the order rows arrive in
        sum(cast(platform_conversions as decimal(18, 4))) as platform_conversions,
        cast(sum(platform_conversion_value) as decimal(18, 6)) as platform_conversion_value,
        max(source_file) as source_file,
        count(*) as source_rows
    from report_rows
    group by
        spend_key, report_date, platform, account_id, campaign_id, ad_group_id, ad_id, keyword_id,
        account_currency

),

final as (

    select
        spend.*,
        account_rate.usd_per_unit as account_usd_per_unit,
        reporting_rate.usd_per_unit as reporting_usd_per_unit,
        {{ fx_convert('spend.spend_account_currency', 'account_rate', 'reporting_rate') }} as spend
    from spend
    left join rates as account_rate
        on {{ fx_rate_in_force('account_rate', 'spend.account_currency', 'spend.report_date') }}
    left join rates as reporting_rate
        on {{ fx_rate_in_force('reporting_rate', "'" ~ var('reporting_currency') ~ "'", 'spend.report_date') }}

)

select * from final
