"""Stand-in for this project's macro namespace (`growthops.<macro>(...)`) under sqlfluff.
Lint-time only: every macro renders as a plain function call."""


def __getattr__(name):
    def render(*args, **kwargs):
        return f"{name}({', '.join(str(a) or '0' for a in args)})"

    return render
