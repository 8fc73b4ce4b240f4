"""Stand-in for dbt's `adapter` so project macros render under sqlfluff. Lint-time only:
a dispatched macro renders as a scalar subquery, which parses in any position."""


def dispatch(name, macro_namespace=None):
    def render(*args, **kwargs):
        return f"(select 1 as {name})"

    return render


def get_relation(database, schema, identifier):
    """A relation that exists, so a model's incremental path is linted too."""
    return f"{schema}.{identifier}"
