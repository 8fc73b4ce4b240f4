-- One row per report date x search keyword (platform, ad group, keyword): the SEM team's
-- daily list. Windows, flags and action: macros/ad_unit_quality.sql.
{{ ad_unit_quality(
    unit_keys=['platform', 'ad_group_id', 'keyword_id'],
    descriptors=['account_id', 'campaign_id', 'campaign_name', 'ad_group_name', 'keyword_text', 'match_type'],
) }}
