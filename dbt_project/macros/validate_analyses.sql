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
    {%- set allowed = ['name', 'description', 'steps', 'window', 'order'] -%}
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
            'steps': norm_steps
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
    {%- set allowed = ['name', 'description', 'cohort_event', 'return_event', 'period', 'periods', 'type', 'rolling'] -%}
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
            'rolling': rolling
        }) -%}
    {%- endfor -%}
    {{ return(normalized) }}
{%- endmacro %}
