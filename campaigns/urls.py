"""Console URLs for the program: home, segments, campaigns, settings, exports.

Each piece of work adds its own ``path`` lines in its own block below.
"""

from django.urls import path  # noqa: F401

app_name = "campaigns"

urlpatterns: list = []

# --- console home and exports ---

# --- segments and AMS ---

# --- campaigns: compose and send ---

# --- campaigns: kinds, triggers, prospect events ---

# --- program settings and branding ---
