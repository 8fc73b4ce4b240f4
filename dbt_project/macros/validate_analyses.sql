{#- Compile-time validation of the analyses defined as configuration (dbt_project.yml vars
    `funnels`, `retention`, `tracking_plan`). Each check raises a compiler error that names
    the definition and the bad setting; each macro returns the definitions normalized
    (defaults filled in), which is what the generating macros read. Validation runs when a
    model is compiled (execute), so a bad definition fails its mart, not every dbt command. -#}

{% macro validate_identifier_key(key, where) -%}
    {%- if key is not string or not modules.re.match('^[A-Za-z_][A-Za-z0-9_]*$', key) -%}
        {{ exceptions.raise_compiler_error(where ~ ": property key " ~ (key | tojson) ~ " must match ^[A-Za-z_][A-Za-z0-9_]*$") }}
    {%- endif -%}
{%- endmacro %}

{% macro validate_tracking_plan(tracking_plan) -%}
    {%- if tracking_plan is string or tracking_plan is not sequence or tracking_plan | length == 0 -%}
        {{ exceptions.raise_compiler_error("var 'tracking_plan' must be a non-empty list of track event names") }}
    {%- endif -%}
    {%- for name in tracking_plan -%}
        {%- if name is not string or name | trim == '' -%}
            {{ exceptions.raise_compiler_error("var 'tracking_plan': " ~ (name | tojson) ~ " is not an event name") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(tracking_plan) }}
{%- endmacro %}

{#- Keys common to both kinds: a non-empty unique name and no unknown settings. -#}
{% macro _validate_definition_header(definition, kind, index, allowed_keys, seen_names) -%}
    {%- if definition is not mapping -%}
        {{ exceptions.raise_compiler_error(kind ~ " #" ~ index ~ " must be a mapping, got " ~ (definition | string)) }}
    {%- endif -%}
    {%- set name = definition.get('name') -%}
    {%- if name is not string or name | trim == '' -%}
        {{ exceptions.raise_compiler_error(kind ~ " #" ~ index ~ ": 'name' must be a non-empty string") }}
    {%- endif -%}
    {%- if name in seen_names -%}
        {{ exceptions.raise_compiler_error(kind ~ " '" ~ name ~ "': the name is used twice") }}
    {%- endif -%}
    {%- do seen_names.append(name) -%}
    {%- for key in definition -%}
        {%- if key not in allowed_keys -%}
            {{ exceptions.raise_compiler_error(kind ~ " '" ~ name ~ "': unknown setting '" ~ key ~ "' (allowed: " ~ allowed_keys | join(', ') ~ ")") }}
        {%- endif -%}
    {%- endfor -%}
    {{ return(name) }}
{%- endmacro %}

{% macro validate_funnels(funnels, tracking_plan) -%}
    {%- set plan = growthops.validate_tracking_plan(tracking_plan) -%}
    {%- if funnels is string or funnels is not sequence or funnels | length == 0 -%}
        {{ exceptions.raise_compiler_error("var 'funnels' must be a non-empty list of funnel definitions") }}
    {%- endif -%}
    {%- set orders = ['ordered', 'strict', 'unordered'] -%}
    {%- set units = ['second', 'minute', 'hour', 'day', 'week'] -%}
    {%- set allowed = ['name', 'description', 'steps', 'window', 'order', 'breakdown_by'] -%}
    {%- set seen = [] -%}
    {%- set normalized = [] -%}
    {%- for funnel in funnels -%}
        {%- set name = growthops._validate_definition_header(funnel, 'funnel', loop.index, allowed, seen) -%}
        {%- set where = "funnel '" ~ name ~ "'" -%}

        {%- set order = funnel.get('order', 'ordered') -%}
        {%- if order not in orders -%}
            {{ exceptions.raise_compiler_error(where ~ ": unknown order type " ~ (order | tojson) ~ " (use ordered, strict or unordered)") }}
        {%- endif -%}

        {%- set window = funnel.get('window') -%}
        {%- if window is not mapping -%}
            {{ exceptions.raise_compiler_error(where ~ ": 'window' must be {value: <positive integer>, unit: " ~ units | join(' | ') ~ "}") }}
        {%- endif -%}
        {%- if window.get('value') is not integer or window.get('value') <= 0 -%}
            {{ exceptions.raise_compiler_error(where ~ ": window value " ~ (window.get('value') | tojson) ~ " must be a positive integer") }}
        {%- endif -%}
        {%- if window.get('unit') not in units -%}
            {{ exceptions.raise_compiler_error(where ~ ": window unit " ~ (window.get('unit') | tojson) ~ " is not one of " ~ units | join(', ')) }}
        {%- endif -%}

        {%- set steps = funnel.get('steps') -%}
        {%- if steps is string or steps is not sequence or steps | length < 2 -%}
            {{ exceptions.raise_compiler_error(where ~ ": 'steps' must list at least 2 steps") }}
        {%- endif -%}
        {%- set norm_steps = [] -%}
        {%- for step in steps -%}
            {%- set step_where = where ~ " step " ~ loop.index -%}
            {%- if step is not mapping -%}
                {{ exceptions.raise_compiler_error(step_where ~ ": must be {event: <name>, where: {<property>: <value>}}") }}
            {%- endif -%}
            {%- for key in step -%}
                {%- if key not in ['event', 'where'] -%}
                    {{ exceptions.raise_compiler_error(step_where ~ ": unknown setting '" ~ key ~ "' (allowed: event, where)") }}
                {%- endif -%}
            {%- endfor -%}
            {%- if step.get('event') not in plan -%}
                {{ exceptions.raise_compiler_error(step_where ~ ": event " ~ (step.get('event') | tojson) ~ " is not in var('tracking_plan')") }}
            {%- endif -%}
            {%- set filters = step.get('where') or {} -%}
            {%- if filters is not mapping -%}
                {{ exceptions.raise_compiler_error(step_where ~ ": 'where' must be a mapping {<property>: <value>}") }}
            {%- endif -%}
            {%- set norm_filters = [] -%}
            {%- for key, value in filters.items() -%}
                {%- do growthops.validate_identifier_key(key, step_where) -%}
                {%- if value is boolean -%}
                    {%- set text = 'true' if value else 'false' -%}
                {%- elif value is string or value is number -%}
                    {%- set text = value | string -%}
                {%- else -%}
                    {{ exceptions.raise_compiler_error(step_where ~ ": filter value of '" ~ key ~ "' must be a string, number or boolean") }}
                {%- endif -%}
                {%- do norm_filters.append({'key': key, 'value': text}) -%}
            {%- endfor -%}
            {%- do norm_steps.append({'event': step.get('event'), 'filters': norm_filters}) -%}
        {%- endfor -%}

        {%- do normalized.append({
            'name': name,
            'order': order,
            'window_value': window.get('value'),
            'window_unit': window.get('unit'),
            'steps': norm_steps,
            'breakdown_by': growthops.validate_breakdown(funnel.get('breakdown_by'), where)
        }) -%}
    {%- endfor -%}
    {{ return(normalized) }}
{%- endmacro %}

{% macro validate_retention(definitions, tracking_plan) -%}
    {%- set plan = growthops.validate_tracking_plan(tracking_plan) -%}
    {%- if definitions is string or definitions is not sequence or definitions | length == 0 -%}
        {{ exceptions.raise_compiler_error("var 'retention' must be a non-empty list of retention definitions") }}
    {%- endif -%}
    {%- set periods_allowed = ['day', 'week', 'month'] -%}
    {%- set types = ['first_time', 'recurring'] -%}
    {%- set allowed = ['name', 'description', 'cohort_event', 'return_event', 'period', 'periods', 'type', 'rolling', 'breakdown_by'] -%}
    {%- set seen = [] -%}
    {%- set normalized = [] -%}
    {%- for definition in definitions -%}
        {%- set name = growthops._validate_definition_header(definition, 'retention definition', loop.index, allowed, seen) -%}
        {%- set where = "retention definition '" ~ name ~ "'" -%}
        {%- if definition.get('cohort_event') not in plan -%}
            {{ exceptions.raise_compiler_error(where ~ ": cohort_event " ~ (definition.get('cohort_event') | tojson) ~ " is not in var('tracking_plan')") }}
        {%- endif -%}
        {%- set return_event = definition.get('return_event', 'any') -%}
        {%- if return_event != 'any' and return_event not in plan -%}
            {{ exceptions.raise_compiler_error(where ~ ": return_event " ~ (return_event | tojson) ~ " is neither 'any' nor in var('tracking_plan')") }}
        {%- endif -%}
        {%- if definition.get('period') not in periods_allowed -%}
            {{ exceptions.raise_compiler_error(where ~ ": unknown period " ~ (definition.get('period') | tojson) ~ " (use day, week or month)") }}
        {%- endif -%}
        {%- set periods = definition.get('periods') -%}
        {%- if periods is not integer or periods < 1 -%}
            {{ exceptions.raise_compiler_error(where ~ ": periods " ~ (periods | tojson) ~ " must be an integer >= 1") }}
        {%- endif -%}
        {%- set type = definition.get('type', 'first_time') -%}
        {%- if type not in types -%}
            {{ exceptions.raise_compiler_error(where ~ ": unknown type " ~ (type | tojson) ~ " (use first_time or recurring)") }}
        {%- endif -%}
        {%- set rolling = definition.get('rolling', false) -%}
        {%- if rolling is not boolean -%}
            {{ exceptions.raise_compiler_error(where ~ ": rolling must be true or false") }}
        {%- endif -%}
        {%- do normalized.append({
            'name': name,
            'cohort_event': definition.get('cohort_event'),
            'return_event': return_event,
            'period': definition.get('period'),
            'periods': periods,
            'type': type,
            'rolling': rolling,
            'breakdown_by': growthops.validate_breakdown(definition.get('breakdown_by'), where)
        }) -%}
    {%- endfor -%}
    {{ return(normalized) }}
{%- endmacro %}

{#- A window {value: <positive integer>, unit: second | minute | hour | day | week}. -#}
{% macro validate_window(window, where) -%}
    {%- set units = ['second', 'minute', 'hour', 'day', 'week'] -%}
    {%- if window is not mapping or window.get('value') is not integer or window.get('value') <= 0
        or window.get('unit') not in units -%}
        {{ exceptions.raise_compiler_error(where ~ ": 'window' must be {value: <positive integer>, unit: " ~ units | join(' | ') ~ "}, got " ~ (window | tojson)) }}
    {%- endif -%}
{%- endmacro %}

{% macro validate_experiment_metrics(metrics, funnels, tracking_plan) -%}
    {%- set plan = growthops.validate_tracking_plan(tracking_plan) -%}
    {%- if metrics is string or metrics is not sequence or metrics | length == 0 -%}
        {{ exceptions.raise_compiler_error("var 'experiment_metrics' must be a non-empty list of metric definitions") }}
    {%- endif -%}
    {%- set funnel_names = funnels | map(attribute='name') | list -%}
    {%- set needs = {
        'binomial': ['event', 'window'], 'count': ['event', 'window'], 'revenue': ['window'],
        'retention': ['day'], 'funnel': ['funnel']
    } -%}
    {%- set allowed = ['name', 'description', 'type', 'event', 'where', 'window', 'day', 'funnel'] -%}
    {%- set seen = [] -%}
    {%- set normalized = {} -%}
    {%- for metric in metrics -%}
        {%- set name = growthops._validate_definition_header(metric, 'experiment metric', loop.index, allowed, seen) -%}
        {%- set where = "experiment metric '" ~ name ~ "'" -%}
        {%- do growthops.validate_identifier_key(name, where ~ " name") -%}
        {%- set type = metric.get('type') -%}
        {%- if type not in needs -%}
            {{ exceptions.raise_compiler_error(where ~ ": unknown type " ~ (type | tojson) ~ " (use " ~ needs.keys() | list | join(', ') ~ ")") }}
        {%- endif -%}
        {%- for key in ['event', 'where', 'window', 'day', 'funnel'] -%}
            {%- if key in metric and key not in needs[type] and not (key == 'where' and type in ['binomial', 'count']) -%}
                {{ exceptions.raise_compiler_error(where ~ ": '" ~ key ~ "' does not apply to type " ~ type) }}
            {%- endif -%}
        {%- endfor -%}
        {%- for key in needs[type] -%}
            {%- if key not in metric -%}
                {{ exceptions.raise_compiler_error(where ~ ": type " ~ type ~ " needs '" ~ key ~ "'") }}
            {%- endif -%}
        {%- endfor -%}
        {%- if 'event' in metric and metric.event not in plan -%}
            {{ exceptions.raise_compiler_error(where ~ ": event " ~ (metric.event | tojson) ~ " is not in var('tracking_plan')") }}
        {%- endif -%}
        {%- if 'window' in metric -%}
            {%- do growthops.validate_window(metric.window, where) -%}
        {%- endif -%}
        {%- if 'day' in metric and (metric.day is not integer or metric.day < 0) -%}
            {{ exceptions.raise_compiler_error(where ~ ": day " ~ (metric.day | tojson) ~ " must be an integer >= 0") }}
        {%- endif -%}
        {%- if 'funnel' in metric and metric.funnel not in funnel_names -%}
            {{ exceptions.raise_compiler_error(where ~ ": funnel " ~ (metric.funnel | tojson) ~ " is not in var('funnels')") }}
        {%- endif -%}
        {%- set filters = [] -%}
        {%- if 'where' in metric -%}
            {%- set step = growthops.validate_funnels([{'name': 'metric', 'window': {'value': 1, 'unit': 'day'},
                'steps': [{'event': metric.event, 'where': metric.get('where')}, {'event': metric.event}]}], plan)[0].steps[0] -%}
            {%- set filters = step.filters -%}
        {%- endif -%}
        {%- do normalized.update({name: {
            'name': name,
            'type': type,
            'event': metric.get('event', var('order_event') if type == 'revenue' else none),
            'filters': filters,
            'window_value': metric.window.value if 'window' in metric else none,
            'window_unit': metric.window.unit if 'window' in metric else none,
            'day': metric.get('day'),
            'funnel': funnels | selectattr('name', 'equalto', metric.get('funnel')) | first if type == 'funnel' else none
        }}) -%}
    {%- endfor -%}
    {{ return(normalized) }}
{%- endmacro %}

{#- Experiments (vars.experiments) with their metrics (vars.experiment_metrics) resolved:
    [{name, variations: [{id, weight (normalised), index}] (none when observational),
    observational: {campaign_id} or none, start, end, pre_period_days, paid_cost,
    metrics: [metric]}]. -#}
{% macro validate_experiments(experiments, metrics, funnels, tracking_plan) -%}
    {%- set plan = growthops.validate_tracking_plan(tracking_plan) -%}
    {%- if var('experiment_exposure_event') not in plan -%}
        {{ exceptions.raise_compiler_error("var 'experiment_exposure_event' " ~ (var('experiment_exposure_event') | tojson) ~ " is not in var('tracking_plan')") }}
    {%- endif -%}
    {%- if experiments is string or experiments is not sequence -%}
        {{ exceptions.raise_compiler_error("var 'experiments' must be a list of experiment definitions") }}
    {%- endif -%}
    {%- set catalogue = growthops.validate_experiment_metrics(metrics, growthops.validate_funnels(funnels, plan), plan) -%}
    {%- set allowed = ['name', 'description', 'variations', 'observational', 'start', 'end', 'metrics', 'cuped', 'paid_cost'] -%}
    {%- set seen = [] -%}
    {%- set normalized = [] -%}
    {%- for experiment in experiments -%}
        {%- set name = growthops._validate_definition_header(experiment, 'experiment', loop.index, allowed, seen) -%}
        {%- set where = "experiment '" ~ name ~ "'" -%}
        {%- set observational = experiment.get('observational') -%}
        {%- set norm_variations = [] -%}
        {%- if observational is not none -%}
            {%- if 'variations' in experiment -%}
                {{ exceptions.raise_compiler_error(where ~ ": an observational comparison has no 'variations' (they are the campaign's ad groups)") }}
            {%- endif -%}
            {%- if observational is not mapping or observational | length != 1
                or observational.get('campaign_id') is none or (observational.get('campaign_id') | string | trim) == '' -%}
                {{ exceptions.raise_compiler_error(where ~ ": 'observational' must be {campaign_id: <the campaign's id>}") }}
            {%- endif -%}
            {%- set observational = {'campaign_id': observational.campaign_id | string} -%}
        {%- else -%}
            {%- set variations = experiment.get('variations') -%}
            {%- if variations is string or variations is not sequence or variations | length < 2 -%}
                {{ exceptions.raise_compiler_error(where ~ ": 'variations' must list at least 2 variations {id, weight}") }}
            {%- endif -%}
            {%- set ids = [] -%}
            {%- set total = namespace(weight=0) -%}
            {%- for v in variations -%}
                {%- if v is not mapping or v.get('id') is none or (v.get('id') | string | trim) == ''
                    or v.get('weight') is not number or v.get('weight') is boolean or v.get('weight') <= 0 -%}
                    {{ exceptions.raise_compiler_error(where ~ " variation " ~ loop.index ~ ": must be {id: <text>, weight: <number > 0>}, got " ~ (v | tojson)) }}
                {%- endif -%}
                {%- if (v.id | string) in ids -%}
                    {{ exceptions.raise_compiler_error(where ~ ": variation id " ~ (v.id | tojson) ~ " is used twice") }}
                {%- endif -%}
                {%- do ids.append(v.id | string) -%}
                {%- set total.weight = total.weight + v.weight -%}
            {%- endfor -%}
            {%- for v in variations -%}
                {%- do norm_variations.append({'id': v.id | string, 'weight': v.weight / total.weight, 'index': loop.index0}) -%}
            {%- endfor -%}
        {%- endif -%}
        {%- set dates = {} -%}
        {%- for key in ['start', 'end'] -%}
            {%- set value = experiment.get(key) -%}
            {%- if value is not none and not modules.re.match('^[0-9]{4}-[0-9]{2}-[0-9]{2}$', value | string) -%}
                {{ exceptions.raise_compiler_error(where ~ ": " ~ key ~ " " ~ (value | string | tojson) ~ " must be a date YYYY-MM-DD") }}
            {%- endif -%}
            {%- do dates.update({key: (value | string) if value is not none else none}) -%}
        {%- endfor -%}
        {%- if dates.start and dates.end and dates.end < dates.start -%}
            {{ exceptions.raise_compiler_error(where ~ ": end " ~ dates.end ~ " is before start " ~ dates.start) }}
        {%- endif -%}
        {%- set names = experiment.get('metrics') -%}
        {%- if names is string or names is not sequence or names | length == 0 -%}
            {{ exceptions.raise_compiler_error(where ~ ": 'metrics' must list at least one of var('experiment_metrics')") }}
        {%- endif -%}
        {%- set resolved = [] -%}
        {%- for metric_name in names -%}
            {%- if metric_name not in catalogue -%}
                {{ exceptions.raise_compiler_error(where ~ ": metric " ~ (metric_name | tojson) ~ " is not in var('experiment_metrics')") }}
            {%- endif -%}
            {%- do resolved.append(catalogue[metric_name]) -%}
        {%- endfor -%}
        {%- set cuped = experiment.get('cuped') -%}
        {%- set pre_days = 0 -%}
        {%- if cuped is not none -%}
            {%- if cuped is not mapping or cuped.get('pre_period_days') is not integer or cuped.get('pre_period_days') < 1 or cuped | length != 1 -%}
                {{ exceptions.raise_compiler_error(where ~ ": 'cuped' must be {pre_period_days: <integer >= 1>}") }}
            {%- endif -%}
            {%- set pre_days = cuped.pre_period_days -%}
        {%- endif -%}
        {%- set paid_cost = experiment.get('paid_cost', observational is not none) -%}
        {%- if paid_cost is not boolean -%}
            {{ exceptions.raise_compiler_error(where ~ ": paid_cost must be true or false") }}
        {%- endif -%}
        {%- do normalized.append({
            'name': name,
            'variations': norm_variations,
            'observational': observational,
            'start': dates.start,
            'end': dates.end,
            'pre_period_days': pre_days,
            'paid_cost': paid_cost,
            'metrics': resolved
        }) -%}
    {%- endfor -%}
    {{ return(normalized) }}
{%- endmacro %}

{#- The ad-unit quality settings (mart_keyword_performance, mart_ad_unit_performance). -#}
{% macro validate_ad_unit_quality() -%}
    {%- set checks = [
        ('quality_window_days', var('quality_window_days'), 'a whole number of days, at least 1', 'int', 1, none),
        ('wasted_min_spend', var('wasted_min_spend'), 'an amount of at least 0', 'number', 0, none),
        ('junk_activation_floor', var('junk_activation_floor'), 'a rate strictly between 0 and 1', 'number', 0, 1),
        ('junk_confidence', var('junk_confidence'), 'a probability strictly between 0 and 1', 'number', 0, 1),
        ('star_min_signups', var('star_min_signups'), 'a whole number, at least 1', 'int', 1, none),
        ('star_top_n', var('star_top_n'), 'a whole number, at least 1', 'int', 1, none),
    ] -%}
    {%- for name, value, expected, kind, low, high in checks -%}
        {%- set is_number = value is number and value is not sameas true and value is not sameas false -%}
        {%- set ok = is_number and (kind != 'int' or value is integer) -%}
        {%- if ok and high is none -%}{%- set ok = value >= low -%}
        {%- elif ok -%}{%- set ok = low < value < high -%}{%- endif -%}
        {%- if not ok -%}
            {{ exceptions.raise_compiler_error("var '" ~ name ~ "' must be " ~ expected ~ ", got " ~ (value | tojson)) }}
        {%- endif -%}
    {%- endfor -%}
{%- endmacro %}

{#- var('lifecycle_event'): empty (activity = any event but identify) or a tracking-plan
    event; returns it. -#}
{% macro validate_lifecycle_event() -%}
    {%- set name = var('lifecycle_event', none) -%}
    {%- if name and name not in var('tracking_plan') -%}
        {{ exceptions.raise_compiler_error("var 'lifecycle_event': " ~ (name | tojson) ~ " is not in var('tracking_plan') (leave it empty for any event)") }}
    {%- endif -%}
    {{ return(name or none) }}
{%- endmacro %}

{#- var('lifecycle_period_units'): a non-empty list of day / week / month; returns it. -#}
{% macro validate_lifecycle_period_units() -%}
    {%- set units = var('lifecycle_period_units') -%}
    {%- if units is string or units is not sequence or units | length == 0
        or units | reject('in', ['day', 'week', 'month']) | list | length > 0 -%}
        {{ exceptions.raise_compiler_error("var 'lifecycle_period_units' must list some of day, week, month, got " ~ (units | tojson)) }}
    {%- endif -%}
    {{ return(units) }}
{%- endmacro %}

{#- var('paths'): [{name, description, event, direction: after | before, steps: 1..10,
    top: >= 1}]; returns them with defaults (after, 5 steps, top 10). -#}
{% macro validate_paths(definitions, tracking_plan) -%}
    {%- set plan = growthops.validate_tracking_plan(tracking_plan) -%}
    {%- if definitions is string or definitions is not sequence or definitions | length == 0 -%}
        {{ exceptions.raise_compiler_error("var 'paths' must be a non-empty list of path definitions") }}
    {%- endif -%}
    {%- set allowed = ['name', 'description', 'event', 'direction', 'steps', 'top'] -%}
    {%- set seen = [] -%}
    {%- set normalized = [] -%}
    {%- for definition in definitions -%}
        {%- set name = growthops._validate_definition_header(definition, 'path definition', loop.index, allowed, seen) -%}
        {%- set where = "path definition '" ~ name ~ "'" -%}
        {%- if definition.get('event') not in plan -%}
            {{ exceptions.raise_compiler_error(where ~ ": event " ~ (definition.get('event') | tojson) ~ " is not in var('tracking_plan')") }}
        {%- endif -%}
        {%- set direction = definition.get('direction', 'after') -%}
        {%- if direction not in ['after', 'before'] -%}
            {{ exceptions.raise_compiler_error(where ~ ": direction " ~ (direction | tojson) ~ " must be after or before") }}
        {%- endif -%}
        {%- set steps = definition.get('steps', 5) -%}
        {%- if steps is not integer or steps is sameas true or steps < 1 or steps > 10 -%}
            {{ exceptions.raise_compiler_error(where ~ ": steps " ~ (steps | tojson) ~ " must be an integer from 1 to 10") }}
        {%- endif -%}
        {%- set top = definition.get('top', 10) -%}
        {%- if top is not integer or top is sameas true or top < 1 -%}
            {{ exceptions.raise_compiler_error(where ~ ": top " ~ (top | tojson) ~ " must be an integer >= 1") }}
        {%- endif -%}
        {%- do normalized.append({'name': name, 'event': definition.get('event'), 'direction': direction,
                                  'steps': steps, 'top': top}) -%}
    {%- endfor -%}
    {{ return(normalized) }}
{%- endmacro %}

{#- var('segments'): [{name, description, match: all | any, rules: [{column, op, value}]}]
    over the documented columns of mart_person_profiles; returns them normalized. -#}
{% macro validate_segments(definitions) -%}
    {%- if definitions is string or definitions is not sequence -%}
        {{ exceptions.raise_compiler_error("var 'segments' must be a list of segment definitions") }}
    {%- endif -%}
    {%- set columns = growthops.profile_columns() -%}
    {%- set ops = ['=', '!=', '>', '>=', '<', '<=', 'in', 'not in', 'is null', 'is not null'] -%}
    {%- set allowed = ['name', 'description', 'match', 'rules'] -%}
    {%- set seen = [] -%}
    {%- set normalized = [] -%}
    {%- for definition in definitions -%}
        {%- set name = growthops._validate_definition_header(definition, 'segment', loop.index, allowed, seen) -%}
        {%- do growthops.validate_identifier_key(name, "segment '" ~ name ~ "'") -%}
        {%- set match = definition.get('match', 'all') -%}
        {%- if match not in ['all', 'any'] -%}
            {{ exceptions.raise_compiler_error("segment '" ~ name ~ "': match " ~ (match | tojson) ~ " must be all or any") }}
        {%- endif -%}
        {%- set rules = definition.get('rules') -%}
        {%- if rules is string or rules is not sequence or rules | length == 0 -%}
            {{ exceptions.raise_compiler_error("segment '" ~ name ~ "': 'rules' must list at least one {column, op, value}") }}
        {%- endif -%}
        {%- for rule in rules -%}
            {%- set where = "segment '" ~ name ~ "' rule " ~ loop.index -%}
            {%- if rule is not mapping or rule.get('column') is not string -%}
                {{ exceptions.raise_compiler_error(where ~ ": must be {column: <profile column>, op: <operator>, value: <value>}") }}
            {%- endif -%}
            {%- if columns and rule.get('column') not in columns -%}
                {{ exceptions.raise_compiler_error(where ~ ": column " ~ (rule.get('column') | tojson) ~ " is not a column of mart_person_profiles") }}
            {%- endif -%}
            {%- set op = rule.get('op', '=') -%}
            {%- if op not in ops -%}
                {{ exceptions.raise_compiler_error(where ~ ": op " ~ (op | tojson) ~ " is not one of " ~ ops | join(', ')) }}
            {%- endif -%}
            {%- set value = rule.get('value') -%}
            {%- if op in ['in', 'not in'] and (value is string or value is not sequence or value | length == 0) -%}
                {{ exceptions.raise_compiler_error(where ~ ": '" ~ op ~ "' needs a non-empty list as value") }}
            {%- elif op not in ['in', 'not in', 'is null', 'is not null'] and (value is none or value is mapping or (value is sequence and value is not string)) -%}
                {{ exceptions.raise_compiler_error(where ~ ": value must be a string, number or boolean") }}
            {%- endif -%}
        {%- endfor -%}
        {%- do normalized.append({'name': name, 'match': match, 'rules': rules}) -%}
    {%- endfor -%}
    {{ return(normalized) }}
{%- endmacro %}

{#- A rule's value as SQL: a number or boolean as itself, anything else an escaped string. -#}
{% macro segment_value_sql(value) -%}
    {%- if value is sameas true or value is sameas false -%}{{ 'true' if value else 'false' }}
    {%- elif value is number -%}{{ value }}
    {%- else -%}{{ funnel_sql_string(value) }}
    {%- endif -%}
{%- endmacro %}

{#- The documented columns of mart_person_profiles (dbt's graph; unit tests see none, and
    then no column is checked). -#}
{% macro profile_columns() -%}
    {%- set columns = [] -%}
    {%- for node in (graph.get('nodes') or {}).values() if node.resource_type == 'model' and node.name == 'mart_person_profiles' -%}
        {%- do columns.extend(node.columns.keys()) -%}
    {%- endfor -%}
    {{ return(columns) }}
{%- endmacro %}

{#- A funnel's or retention definition's breakdown_by: empty, a mart_person_profiles column,
    or segment:<a var('segments') name>; returns it (none when empty). -#}
{% macro validate_breakdown(value, where) -%}
    {%- if value is none or value == '' -%}{{ return(none) }}{%- endif -%}
    {%- if value is not string -%}
        {{ exceptions.raise_compiler_error(where ~ ": breakdown_by must be a profile column or segment:<name>") }}
    {%- endif -%}
    {%- if value.startswith('segment:') -%}
        {%- set names = var('segments') | map(attribute='name') | list -%}
        {%- if value[8:] not in names -%}
            {{ exceptions.raise_compiler_error(where ~ ": breakdown_by " ~ (value | tojson) ~ " names no segment of var('segments')") }}
        {%- endif -%}
    {%- else -%}
        {%- set columns = growthops.profile_columns() -%}
        {%- if columns and value not in columns -%}
            {{ exceptions.raise_compiler_error(where ~ ": breakdown_by " ~ (value | tojson) ~ " is not a column of mart_person_profiles (or segment:<name>)") }}
        {%- endif -%}
        {%- do growthops.validate_identifier_key(value, where) -%}
    {%- endif -%}
    {{ return(value) }}
{%- endmacro %}
