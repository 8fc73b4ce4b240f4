-- One row per content platform x day: mart_content_daily summed over the platform's items.
{{ content_rollup('content_platform') }}
