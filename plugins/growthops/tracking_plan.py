"""The app's tracking plan: the product events the pipeline knows.

The list itself lives in dbt_project.yml (vars.tracking_plan) so dbt can validate funnel
and retention definitions against it; the names below are what the demo app sends.

Shared by the demo simulator (what it emits) and the ingest gate (what it accepts):
an event whose name is not listed here is quarantined with the rule that names it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from growthops.project import experiments, track_events

# Segment spec message types the collector forwards.
MESSAGE_TYPES: Final = frozenset({"track", "identify", "page", "screen"})

# track event names (Segment's mobile lifecycle + e-commerce naming where one exists).
APP_INSTALLED: Final = "Application Installed"
APP_OPENED: Final = "Application Opened"
APP_BACKGROUNDED: Final = "Application Backgrounded"
SIGNED_UP: Final = "Signed Up"
ONBOARDING_COMPLETED: Final = "Onboarding Completed"  # the activation event
CONTENT_VIEWED: Final = "Content Viewed"
CONTENT_LIKED: Final = "Content Liked"
CONTENT_COMMENTED: Final = "Content Commented"
CONTENT_SHARED: Final = "Content Shared"
INVITE_SENT: Final = "Invite Sent"
ORDER_COMPLETED: Final = "Order Completed"
EXPERIMENT_VIEWED: Final = "Experiment Viewed"  # properties experiment_id, variation_id


# The list of this checkout, for the demo simulator and tests (the pipeline reads the one
# under GROWTHOPS_HOME through track_events).
_PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
TRACK_EVENTS: Final = track_events(_PROJECT)
# The experiments the demo app runs (vars.experiments: ids, variations, weights, start).
EXPERIMENTS: Final = experiments(_PROJECT)

# screen / page names in the app and on the web landing pages.
SCREENS: Final = ("Home", "Feed", "Content Detail", "Profile", "Search", "Settings")
