{#- The daily list of an ad unit grain (keywords, ad groups / ad sets): what each unit's
    spend bought over trailing windows, how good those sign-ups were, its flags and the
    action for it. The body of mart_keyword_performance and mart_ad_unit_performance.

    unit_keys:   columns naming a unit, both in int_spend_converted and in
                 int_acquisition_outcomes (platform first).
    descriptors: columns of the unit's spend rows (names, match type): their max (one value
                 per id in practice).
    Three windows of var('quality_window_days') days, each over the unit's report days
    (spend) and acquisition days (persons):
      trailing_* ending on report_date: delivery and sign-ups;
      d7_*       ending 7 days earlier: cohorts whose first 7 days are over;
      d30_*      ending 30 days earlier: the same for 30 days. -#}
{% macro ad_unit_quality(unit_keys, descriptors) -%}
{%- set window_days = var('quality_window_days') -%}
{%- set floor = var('junk_activation_floor') -%}
{%- do validate_ad_unit_quality() -%}
with

spend as (

    select * from {{ ref('int_spend_converted') }}
    where {% for key in unit_keys %}{{ key }} is not null{{ ' and ' if not loop.last }}{% endfor %}

),

outcomes as (

    select * from {{ ref('int_acquisition_outcomes') }}
    where {% for key in unit_keys %}{{ key }} is not null{{ ' and ' if not loop.last }}{% endfor %}

),

units as (

    select
        {{ unit_keys | join(',\n        ') }},
        {%- for column in descriptors %}
        max({{ column }}) as {{ column }}{{ ',' if not loop.last }}
        {%- endfor %}
    from spend
    group by {{ unit_keys | join(', ') }}

),

spend_daily as (

    select
        report_date,
        {{ unit_keys | join(',\n        ') }},
        sum(impressions) as impressions,
        sum(clicks) as clicks,
        sum(spend) as spend
    from spend
    group by report_date, {{ unit_keys | join(', ') }}

),

acquired_daily as (

    select
        acquisition_date as report_date,
        {{ unit_keys | join(',\n        ') }},
        count(*) as installs,
        sum(case when is_signed_up then 1 else 0 end) as signups,
        sum(case when is_signed_up and is_activated_d7 then 1 else 0 end) as activated,
        sum(case when is_signed_up and is_retained_d7 then 1 else 0 end) as retained,
        sum(case when is_payer_d7 then 1 else 0 end) as payers,
        sum(revenue_d7) as revenue_d7,
        sum(revenue_d30) as revenue_d30,
        sum(referral_signups_d7) as referral_signups
    from outcomes
    group by acquisition_date, {{ unit_keys | join(', ') }}

),

-- every day a unit spent or brought someone: attributed persons are never dropped
grain as (

    select
        report_date,
        {{ unit_keys | join(', ') }}
    from spend_daily
    union
    select
        report_date,
        {{ unit_keys | join(', ') }}
    from acquired_daily

),

daily as (

    select
        grain.report_date,
        {%- for key in unit_keys %}
        grain.{{ key }},
        {%- endfor %}
        coalesce(spend_daily.impressions, 0) as impressions,
        coalesce(spend_daily.clicks, 0) as clicks,
        coalesce(spend_daily.spend, 0) as spend,
        coalesce(acquired_daily.installs, 0) as installs,
        coalesce(acquired_daily.signups, 0) as signups,
        coalesce(acquired_daily.activated, 0) as activated,
        coalesce(acquired_daily.retained, 0) as retained,
        coalesce(acquired_daily.payers, 0) as payers,
        coalesce(acquired_daily.revenue_d7, 0) as revenue_d7,
        coalesce(acquired_daily.revenue_d30, 0) as revenue_d30,
        coalesce(acquired_daily.referral_signups, 0) as referral_signups
    from grain
    left join spend_daily
        on grain.report_date = spend_daily.report_date
        {%- for key in unit_keys %}
        and grain.{{ key }} = spend_daily.{{ key }}
        {%- endfor %}
    left join acquired_daily
        on grain.report_date = acquired_daily.report_date
        {%- for key in unit_keys %}
        and grain.{{ key }} = acquired_daily.{{ key }}
        {%- endfor %}

),

-- each report day joined with the unit's days of all three windows
window_rows as (

    select
        today.report_date,
        {%- for key in unit_keys %}
        today.{{ key }},
        {%- endfor %}
        {{ dbt.datediff('past.report_date', 'today.report_date', 'day') }} as days_back,
        past.clicks,
        past.spend,
        past.installs,
        past.signups,
        past.activated,
        past.retained,
        past.payers,
        past.revenue_d7,
        past.revenue_d30,
        past.referral_signups
    from daily as today
    inner join daily as past
        on today.report_date >= past.report_date
        and {{ dbt.dateadd('day', -1 * (window_days + 30), 'today.report_date') }} < past.report_date
        {%- for key in unit_keys %}
        and today.{{ key }} = past.{{ key }}
        {%- endfor %}

),

window_sums as (

    select
        report_date,
        {{ unit_keys | join(',\n        ') }},
        {%- set current = 'days_back < ' ~ window_days %}
        {%- set d7 = 'days_back >= 7 and days_back < ' ~ (window_days + 7) %}
        {%- set d30 = 'days_back >= 30' %}
        sum(case when {{ current }} then spend else 0 end) as trailing_spend,
        sum(case when {{ current }} then clicks else 0 end) as trailing_clicks,
        sum(case when {{ current }} then installs else 0 end) as trailing_installs,
        sum(case when {{ current }} then signups else 0 end) as trailing_signups,
        sum(case when {{ d7 }} then spend else 0 end) as d7_spend,
        sum(case when {{ d7 }} then signups else 0 end) as d7_signups,
        sum(case when {{ d7 }} then activated else 0 end) as d7_activated,
        sum(case when {{ d7 }} then retained else 0 end) as d7_retained,
        sum(case when {{ d7 }} then payers else 0 end) as d7_payers,
        sum(case when {{ d7 }} then revenue_d7 else 0 end) as d7_revenue,
        sum(case when {{ d7 }} then referral_signups else 0 end) as d7_referral_signups,
        sum(case when {{ d30 }} then spend else 0 end) as d30_spend,
        sum(case when {{ d30 }} then revenue_d30 else 0 end) as d30_revenue
    from window_rows
    group by report_date, {{ unit_keys | join(', ') }}

),

-- P(activation rate < floor) under a Beta(1, 1) prior after d7_activated of d7_signups:
-- the posterior Beta(a + 1, s - a + 1) has CDF(x) = P(Binomial(s + 1, x) >= a + 1), summed
-- term by term (log binomial coefficients as running sums, no gamma function needed).
binomial_terms as (

    select
        report_date,
        {{ unit_keys | join(',\n        ') }},
        d7_activated,
        d7_signups + 1 as trials,
        {{ integer_range('0', 'd7_signups + 1') }} as successes
    from window_sums

),

binomial_log_terms as (

    select
        *,
        sum(case when successes = 0 then 0 else ln(trials - successes + 1) - ln(successes) end) over (
            partition by report_date, {{ unit_keys | join(', ') }}
            order by successes
            rows unbounded preceding
        ) as log_choose
    from binomial_terms

),

junk_evidence as (

    select
        report_date,
        {{ unit_keys | join(',\n        ') }},
        -- rounded to 1e-9: the sum of exp(log terms) is exact only to a few ulps
        round(sum(
            case
                when successes > d7_activated
                    then exp(log_choose + successes * ln({{ floor }}) + (trials - successes) * ln(1 - {{ floor }}))
                else 0
            end
        ), 9) as p_activation_below_floor
    from binomial_log_terms
    group by report_date, {{ unit_keys | join(', ') }}

),

scored as (

    select
        daily.*,
        {%- for column in descriptors %}
        units.{{ column }},
        {%- endfor %}
        window_sums.trailing_spend,
        window_sums.trailing_clicks,
        window_sums.trailing_installs,
        window_sums.trailing_signups,
        window_sums.d7_spend,
        window_sums.d7_signups,
        window_sums.d7_activated,
        window_sums.d7_retained,
        window_sums.d7_payers,
        window_sums.d7_revenue,
        window_sums.d7_referral_signups,
        window_sums.d30_spend,
        window_sums.d30_revenue,
        {{ safe_divide('window_sums.trailing_signups', 'window_sums.trailing_clicks') }} as conversion_rate,
        {{ safe_divide('window_sums.trailing_spend', 'window_sums.trailing_signups') }} as cpa,
        {{ safe_divide('window_sums.d7_activated', 'window_sums.d7_signups') }} as activation_rate,
        {{ safe_divide('window_sums.d7_retained', 'window_sums.d7_signups') }} as d7_retention_rate,
        {{ safe_divide('window_sums.d7_spend', 'window_sums.d7_activated') }} as cost_per_activated,
        {{ safe_divide('window_sums.d7_revenue', 'window_sums.d7_spend') }} as roas_d7,
        {{ safe_divide('window_sums.d30_revenue', 'window_sums.d30_spend') }} as roas_d30,
        {{ safe_divide('window_sums.d7_spend', 'window_sums.d7_signups + window_sums.d7_referral_signups') }}
            as viral_adjusted_cac,
        junk_evidence.p_activation_below_floor,
        window_sums.trailing_spend >= {{ var('wasted_min_spend') }}
        and window_sums.trailing_signups = 0 as is_wasted,
        window_sums.d7_spend > 0
        and junk_evidence.p_activation_below_floor > {{ var('junk_confidence') }} as is_junk
    from daily
    inner join window_sums
        on daily.report_date = window_sums.report_date
        {%- for key in unit_keys %}
        and daily.{{ key }} = window_sums.{{ key }}
        {%- endfor %}
    inner join junk_evidence
        on daily.report_date = junk_evidence.report_date
        {%- for key in unit_keys %}
        and daily.{{ key }} = junk_evidence.{{ key }}
        {%- endfor %}
    left join units
        on {% for key in unit_keys %}daily.{{ key }} = units.{{ key }}{{ '\n        and ' if not loop.last }}{% endfor %}

),

-- star: among a platform's units that day with enough D7 sign-ups and some revenue, not
-- junk, the var('star_top_n') best ROAS D7
star_candidates as (

    select
        report_date,
        {{ unit_keys | join(',\n        ') }},
        rank() over (partition by report_date, platform order by roas_d7 desc) as roas_rank
    from scored
    where d7_signups >= {{ var('star_min_signups') }} and roas_d7 > 0 and not is_junk

),

final as (

    select
        scored.report_date,
        {%- for key in unit_keys %}
        scored.{{ key }},
        {%- endfor %}
        {%- for column in descriptors %}
        scored.{{ column }},
        {%- endfor %}
        cast(scored.impressions as bigint) as impressions,
        cast(scored.clicks as bigint) as clicks,
        cast(scored.spend as decimal(18, 6)) as spend,
        cast(scored.installs as bigint) as installs,
        cast(scored.signups as bigint) as signups,
        cast(scored.trailing_spend as decimal(18, 6)) as trailing_spend,
        cast(scored.trailing_clicks as bigint) as trailing_clicks,
        cast(scored.trailing_installs as bigint) as trailing_installs,
        cast(scored.trailing_signups as bigint) as trailing_signups,
        scored.conversion_rate,
        scored.cpa,
        cast(scored.d7_spend as decimal(18, 6)) as d7_spend,
        cast(scored.d7_signups as bigint) as d7_signups,
        cast(scored.d7_activated as bigint) as d7_activated,
        cast(scored.d7_retained as bigint) as d7_retained,
        cast(scored.d7_payers as bigint) as d7_payers,
        cast(scored.d7_revenue as decimal(18, 6)) as d7_revenue,
        cast(scored.d7_referral_signups as bigint) as d7_referral_signups,
        scored.activation_rate,
        scored.d7_retention_rate,
        scored.cost_per_activated,
        scored.roas_d7,
        scored.viral_adjusted_cac,
        cast(scored.d30_spend as decimal(18, 6)) as d30_spend,
        cast(scored.d30_revenue as decimal(18, 6)) as d30_revenue,
        scored.roas_d30,
        scored.p_activation_below_floor,
        scored.is_wasted,
        scored.is_junk,
        coalesce(star_candidates.roas_rank <= {{ var('star_top_n') }}, false) as is_star,
        case
            when scored.trailing_spend = 0 then null
            when scored.is_wasted or scored.is_junk then 'cut'
            when star_candidates.roas_rank <= {{ var('star_top_n') }} then 'scale'
            else 'keep'
        end as action,
        cast(
            rank() over (
                partition by scored.report_date, scored.platform
                order by coalesce(scored.conversion_rate, -1) desc, scored.trailing_spend asc
            ) as integer
        ) as conversion_rank
    from scored
    left join star_candidates
        on scored.report_date = star_candidates.report_date
        {%- for key in unit_keys %}
        and scored.{{ key }} = star_candidates.{{ key }}
        {%- endfor %}

)

select * from final
{%- endmacro %}
