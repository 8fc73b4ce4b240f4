"""The app's tracking plan: the product events the pipeline knows.

Shared by the demo simulator (what it emits) and the ingest gate (what it accepts):
an event whose name is not listed here is quarantined with the rule that names it.
"""

from __future__ import annotations

from typing import Final

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

TRACK_EVENTS: Final = frozenset(
    {
        APP_INSTALLED,
        APP_OPENED,
        APP_BACKGROUNDED,
        SIGNED_UP,
        ONBOARDING_COMPLETED,
        CONTENT_VIEWED,
        CONTENT_LIKED,
        CONTENT_COMMENTED,
        CONTENT_SHARED,
        INVITE_SENT,
        ORDER_COMPLETED,
    }
)

# screen / page names in the app and on the web landing pages.
SCREENS: Final = ("Home", "Feed", "Content Detail", "Profile", "Search", "Settings")
