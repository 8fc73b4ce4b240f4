{#- SQL generators for the experiment models (definitions: vars.experiments and
    vars.experiment_metrics, validated by validate_experiments). Names and ids reach the SQL
    only as escaped string literals (funnel_sql_string). -#}

{#- The experiments, validated; every experiment model reads them through here. -#}
{% macro experiment_definitions() -%}
    {{ return(growthops.validate_experiments(
        var('experiments'), var('experiment_metrics'), var('funnels'), var('tracking_plan'))) }}
{%- endmacro %}

{#- A row of typed NULLs that matches nothing: the shape of a union whose list is empty.
    columns: [(name, SQL type)]. -#}
{% macro typed_empty_select(columns) -%}
    select
    {%- for name, type in columns %}
        cast(null as {{ type }}) as {{ name }}{{ ',' if not loop.last }}
    {%- endfor %}
    where 1 = 0
{%- endmacro %}

{#- The settings every row of an experiment carries: start_date, end_date,
    pre_period_days, is_paid_cost. -#}
{% macro experiment_settings_columns(experiment) -%}
    {{ growthops.experiment_date(experiment.start) }} as start_date,
        {{ growthops.experiment_date(experiment.end) }} as end_date,
        cast({{ experiment.pre_period_days }} as {{ dbt.type_int() }}) as pre_period_days,
        {{ 'true' if experiment.paid_cost else 'false' }} as is_paid_cost
{%- endmacro %}

{#- A date literal or a typed null. -#}
{% macro experiment_date(value) -%}
    {%- if value is none -%}cast(null as date){%- else -%}cast({{ growthops.funnel_sql_string(value) }} as date){%- endif -%}
{%- endmacro %}

{#- One row per configured variation of a randomised experiment: experiment_id,
    variation_id, variation_index (0 = the control), weight (normalised), start_date,
    end_date, pre_period_days, is_paid_cost. None configured: a typed row that matches
    nothing. -#}
{% macro experiment_variation_rows(experiments) -%}
    {%- set rows = [] -%}
    {%- for experiment in experiments -%}
        {%- for v in experiment.variations -%}
            {%- do rows.append((experiment, v)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for experiment, v in rows %}
    select
        {{ growthops.funnel_sql_string(experiment.name) }} as experiment_id,
        {{ growthops.funnel_sql_string(v.id) }} as variation_id,
        cast({{ v.index }} as {{ dbt.type_int() }}) as variation_index,
        cast({{ v.weight }} as double) as weight,
        {{ growthops.experiment_settings_columns(experiment) }}
        {%- if not loop.last %}
    union all
        {%- endif %}
    {%- else %}
    {{ growthops.typed_empty_select([
        ('experiment_id', dbt.type_string()), ('variation_id', dbt.type_string()),
        ('variation_index', dbt.type_int()), ('weight', 'double'),
        ('start_date', 'date'), ('end_date', 'date'), ('pre_period_days', dbt.type_int()),
        ('is_paid_cost', 'boolean')]) }}
    {%- endfor %}
{%- endmacro %}

{#- One row per observational comparison (the ad groups of one campaign, not randomised):
    experiment_id, campaign_id, start_date, end_date, pre_period_days, is_paid_cost. -#}
{% macro experiment_observational_rows(experiments) -%}
    {%- set observed = experiments | rejectattr('observational', 'none') | list -%}
    {%- for experiment in observed %}
    select
        {{ growthops.funnel_sql_string(experiment.name) }} as experiment_id,
        {{ growthops.funnel_sql_string(experiment.observational.campaign_id) }} as campaign_id,
        {{ growthops.experiment_settings_columns(experiment) }}
        {%- if not loop.last %}
    union all
        {%- endif %}
    {%- else %}
    {{ growthops.typed_empty_select([
        ('experiment_id', dbt.type_string()), ('campaign_id', dbt.type_string()),
        ('start_date', 'date'), ('end_date', 'date'), ('pre_period_days', dbt.type_int()),
        ('is_paid_cost', 'boolean')]) }}
    {%- endfor %}
{%- endmacro %}

{#- One row per experiment and metric it reads: experiment_id, metric_name, metric_type,
    maturity_days (retention day N: N + 1, the days until a person's value is known and
    they enter that metric's analysis; 0 for the rest, which count in-progress windows as
    GrowthBook does by default). -#}
{% macro experiment_metric_rows(experiments) -%}
    {%- set rows = [] -%}
    {%- for experiment in experiments -%}
        {%- for metric in experiment.metrics -%}
            {%- do rows.append((experiment.name, metric.name, metric.type,
                metric.day + 1 if metric.type == 'retention' else 0)) -%}
        {%- endfor -%}
    {%- endfor -%}
    {%- for row in rows %}
    select
        {{ growthops.funnel_sql_string(row[0]) }} as experiment_id,
        {{ growthops.funnel_sql_string(row[1]) }} as metric_name,
        {{ growthops.funnel_sql_string(row[2]) }} as metric_type,
        cast({{ row[3] }} as {{ dbt.type_int() }}) as maturity_days
        {%- if not loop.last %}
    union all
        {%- endif %}
    {%- else %}
    {{ growthops.typed_empty_select([
        ('experiment_id', dbt.type_string()), ('metric_name', dbt.type_string()),
        ('metric_type', dbt.type_string()), ('maturity_days', dbt.type_int())]) }}
    {%- endfor %}
{%- endmacro %}

{#- The metrics the experiments read, each once, in definition order. -#}
{% macro experiment_metrics_used(experiments) -%}
    {%- set used = [] -%}
    {%- set names = [] -%}
    {%- for experiment in experiments -%}
        {%- for metric in experiment.metrics if metric.name not in names -%}
            {%- do names.append(metric.name) -%}
            {%- do used.append(metric) -%}
        {%- endfor -%}
    {%- endfor -%}
    {{ return(used) }}
{%- endmacro %}

{#- Boolean SQL: the event row `e` counts for the metric (event name and `where` filters;
    retention: any event). -#}
{% macro experiment_metric_condition(metric, e='events') -%}
    {%- if metric.type == 'retention' -%}
        1 = 1
    {%- else -%}
        ({{ e }}.event_name = {{ growthops.funnel_sql_string(metric.event) }}
        {%- for f in metric.filters %}
            and {{ growthops.json_text(e ~ '.properties', f.key) }} = {{ growthops.funnel_sql_string(f.value) }}
        {%- endfor -%})
    {%- endif -%}
{%- endmacro %}

{#- CTEs "<p>_post" (experiment_id, person_key, value_date, increment: what the metric
    gained on that reporting day) and, except for funnels, "<p>_pre" (experiment_id,
    person_key, pre_value: the metric over the CUPED pre-period) for one metric, reading the
    CTEs `exposures` (included persons: first_exposed_at, pre_period_days) and `events`.
    Ends without a comma. -#}
{% macro experiment_metric_ctes(metric, p) -%}
{%- if metric.type == 'funnel' %}
{%- set n = metric.funnel.steps | length %}
{{ p }}_exposed_events as (

    -- the person's events from the first exposure on, keyed by experiment and person
    select
        {{ dbt.concat(['exposures.experiment_id', "'|'", 'exposures.person_key']) }} as person_key,
        events.event_name,
        events.event_at,
        events.properties,
        row_number() over (
            partition by exposures.experiment_id, exposures.person_key
            order by events.event_at, events.message_id
        ) as event_seq
    from exposures
    inner join events
        on exposures.person_key = events.person_key
        and events.event_at >= exposures.first_exposed_at
    where exposures.metric_name = {{ growthops.funnel_sql_string(metric.name) }}

),

{{ growthops.funnel_reached_ctes(metric.funnel, p ~ '_funnel', p ~ '_exposed_events') }},

{{ p }}_post as (

    -- completed: the counted attempt reached the last step
    select
        exposures.experiment_id,
        exposures.person_key,
        {{ growthops.reporting_date('min(reached.reached_at)') }} as value_date,
        1 as increment
    from {{ p }}_funnel_reached as reached
    inner join exposures
        on reached.person_key = {{ dbt.concat(['exposures.experiment_id', "'|'", 'exposures.person_key']) }}
        and exposures.metric_name = {{ growthops.funnel_sql_string(metric.name) }}
    where reached.step_number = {{ n }}
    group by exposures.experiment_id, exposures.person_key

)
{%- else %}
{%- if metric.type == 'retention' %}
{%- set window_start = dbt.dateadd('day', metric.day, 'exposures.first_exposed_at') %}
{%- set window_end = dbt.dateadd('day', metric.day + 1, 'exposures.first_exposed_at') %}
{%- else %}
{%- set window_start = 'exposures.first_exposed_at' %}
{%- set window_end = dbt.dateadd(metric.window_unit, metric.window_value, 'exposures.first_exposed_at') %}
{%- endif %}
{{ p }}_events as (

    -- events that count: in the window after the first exposure, or in the pre-period
    select
        exposures.experiment_id,
        exposures.person_key,
        events.event_at,
        events.revenue,
        exposures.first_exposed_at,
        events.event_at >= exposures.first_exposed_at as is_post
    from exposures
    inner join events
        on exposures.person_key = events.person_key
        and {{ growthops.experiment_metric_condition(metric) }}
    where exposures.metric_name = {{ growthops.funnel_sql_string(metric.name) }}
        and (
            (events.event_at >= {{ window_start }} and events.event_at < {{ window_end }})
            or (
                events.event_at < exposures.first_exposed_at
                and events.event_at >= {{ dbt.dateadd('day', '-1 * exposures.pre_period_days', 'exposures.first_exposed_at') }}
            )
        )

),

{{ p }}_post as (

    select
        experiment_id,
        person_key,
        {%- if metric.type == 'retention' %}
        -- known once day N is over, when the person enters this metric's analysis
        {{ growthops.reporting_date(dbt.dateadd('day', metric.day + 1, 'min(first_exposed_at)')) }} as value_date,
        1 as increment
        {%- elif metric.type == 'binomial' %}
        {{ growthops.reporting_date('min(event_at)') }} as value_date,
        1 as increment
        {%- else %}
        {{ growthops.reporting_date('event_at') }} as value_date,
        {{ 'count(*)' if metric.type == 'count' else 'sum(coalesce(revenue, 0))' }} as increment
        {%- endif %}
    from {{ p }}_events
    where is_post
    group by experiment_id, person_key{{ ', ' ~ growthops.reporting_date('event_at') if metric.type in ['count', 'revenue'] }}

),

{{ p }}_pre as (

    select
        experiment_id,
        person_key,
        {%- if metric.type in ['binomial', 'retention'] %}
        1 as pre_value
        {%- elif metric.type == 'count' %}
        count(*) as pre_value
        {%- else %}
        sum(coalesce(revenue, 0)) as pre_value
        {%- endif %}
    from {{ p }}_events
    where not is_post
    group by experiment_id, person_key

)
{%- endif %}
{%- endmacro %}
