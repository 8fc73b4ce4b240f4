"""`make bench`: the pipeline against the floor (the same definitions in one DuckDB process)
and against pandas, on a cached demo world. Not imported by the pipeline."""
