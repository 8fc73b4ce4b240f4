-- One row per report date x ad unit (platform, campaign, ad group / ad set, = utm_content of
-- its clicks): the daily list of every platform. Windows, flags and action:
-- macros/ad_unit_quality.sql.
{{ ad_unit_quality(
    unit_keys=['platform', 'campaign_id', 'ad_group_id'],
    descriptors=['account_id', 'campaign_name', 'ad_group_name'],
) }}
