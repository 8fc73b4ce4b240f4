-- One row per author x day: mart_content_daily summed over the author's items.
{{ content_rollup('author') }}
