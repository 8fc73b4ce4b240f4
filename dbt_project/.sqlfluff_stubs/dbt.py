"""Stand-ins for dbt's cross-database macros so sqlfluff's jinja templater can render the
models (sqlfluff-templater-dbt has no release for this sqlfluff). Lint-time only."""


def _call(name):
    def render(*args, **kwargs):
        return f"{name}({', '.join(str(a) or '0' for a in args)})"

    return render


datediff = _call("date_diff")
dateadd = _call("date_add")
date_trunc = _call("date_trunc")
hash = _call("md5")
concat = _call("concat")
string_literal = _call("quote")
generate_series = _call("generate_series")


def type_string():
    return "varchar"


def type_bigint():
    return "bigint"


def type_float():
    return "double"


def type_int():
    return "integer"


def type_timestamp():
    return "timestamp"
