"""Console URLs for the program: home, segments, campaigns, settings, exports.

Each piece of work adds its own ``path`` lines in its own block below.
"""

from django.urls import path

app_name = "campaigns"

urlpatterns: list = []

# --- segments and AMS ---
from campaigns import views_segments

urlpatterns += [
    path("console/segments/", views_segments.segment_list, name="segment_list"),
    path("console/segments/new/", views_segments.segment_create, name="segment_create"),
    path("console/segments/<int:pk>/", views_segments.segment_detail, name="segment_detail"),
    path("console/segments/<int:pk>/edit/", views_segments.segment_edit, name="segment_edit"),
    path(
        "console/segments/<int:pk>/delete/",
        views_segments.segment_delete_view,
        name="segment_delete",
    ),
    path(
        "console/segments/<int:pk>/members.csv",
        views_segments.segment_export,
        name="segment_export",
    ),
]

# --- campaigns: compose and send ---
from campaigns import campaign_views

urlpatterns += [
    path("console/campaigns/", campaign_views.campaign_list, name="campaign_list"),
    path("console/campaigns/new/", campaign_views.campaign_new, name="campaign_new"),
    path("console/campaigns/<int:pk>/", campaign_views.campaign_detail, name="campaign_detail"),
    path("console/campaigns/<int:pk>/edit/", campaign_views.campaign_edit, name="campaign_edit"),
    path(
        "console/campaigns/<int:pk>/preview/",
        campaign_views.campaign_preview,
        name="campaign_preview",
    ),
    path("console/campaigns/<int:pk>/start/", campaign_views.campaign_start, name="campaign_start"),
    path("console/campaigns/<int:pk>/pause/", campaign_views.campaign_pause, name="campaign_pause"),
    path(
        "console/campaigns/<int:pk>/resume/", campaign_views.campaign_resume, name="campaign_resume"
    ),
    path(
        "console/campaigns/<int:pk>/cancel/", campaign_views.campaign_cancel, name="campaign_cancel"
    ),
    path("u/<str:token>/", campaign_views.unsubscribe, name="unsubscribe"),
    path("e/o/<str:token>.gif", campaign_views.track_open, name="track_open"),
    path("e/c/<str:token>/", campaign_views.track_click, name="track_click"),
]

# --- campaigns: kinds, triggers, prospect events ---
from campaigns import kinds_views

urlpatterns += [
    path("console/campaigns/<int:pk>/contacts/", kinds_views.contacts, name="kinds_contacts"),
    path("console/campaigns/<int:pk>/prospects/", kinds_views.prospects, name="kinds_prospects"),
    path("console/campaigns/<int:pk>/trigger/", kinds_views.trigger, name="kinds_trigger"),
    path("campaigns/<int:pk>/refer/", kinds_views.drive_refer, name="kinds_refer"),
]
