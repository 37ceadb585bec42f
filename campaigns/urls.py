"""Console URLs for the program's campaigns and segments, and the links in their emails."""

from django.urls import path

from campaigns.views import campaigns, email_events, kinds, segments, suppressions

app_name = "campaigns"

urlpatterns = [
    # Segments
    path("console/segments/", segments.segment_list, name="segment_list"),
    path("console/segments/new/", segments.segment_create, name="segment_create"),
    path("console/segments/<int:pk>/", segments.segment_detail, name="segment_detail"),
    path("console/segments/<int:pk>/edit/", segments.segment_edit, name="segment_edit"),
    path(
        "console/segments/<int:pk>/delete/",
        segments.segment_delete_view,
        name="segment_delete",
    ),
    path(
        "console/segments/<int:pk>/members.csv",
        segments.segment_export,
        name="segment_export",
    ),
    # Campaigns: compose and send
    path("console/campaigns/", campaigns.campaign_list, name="campaign_list"),
    path("console/campaigns/new/", campaigns.campaign_new, name="campaign_new"),
    path("console/campaigns/<int:pk>/", campaigns.campaign_detail, name="campaign_detail"),
    path("console/campaigns/<int:pk>/edit/", campaigns.campaign_edit, name="campaign_edit"),
    path(
        "console/campaigns/<int:pk>/preview/",
        campaigns.campaign_preview,
        name="campaign_preview",
    ),
    path("console/campaigns/<int:pk>/start/", campaigns.campaign_start, name="campaign_start"),
    path("console/campaigns/<int:pk>/pause/", campaigns.campaign_pause, name="campaign_pause"),
    path("console/campaigns/<int:pk>/resume/", campaigns.campaign_resume, name="campaign_resume"),
    path("console/campaigns/<int:pk>/cancel/", campaigns.campaign_cancel, name="campaign_cancel"),
    # The links in every campaign email
    path("console/suppressions/", suppressions.suppression_list, name="suppression_list"),
    path(
        "console/suppressions/export.csv",
        suppressions.suppression_export,
        name="suppression_export",
    ),
    path(
        "console/suppressions/<int:pk>/remove/",
        suppressions.suppression_delete,
        name="suppression_delete",
    ),
    path("email/events/<str:provider>/", email_events.email_events, name="email_events"),
    path("u/<str:token>/", campaigns.unsubscribe, name="unsubscribe"),
    path("e/o/<str:token>.gif", campaigns.track_open, name="track_open"),
    path("e/c/<str:token>/", campaigns.track_click, name="track_click"),
    # Campaign kinds: contacts, prospects, triggers, the hub's referral drives
    path("console/campaigns/<int:pk>/contacts/", kinds.contacts, name="kinds_contacts"),
    path("console/campaigns/<int:pk>/prospects/", kinds.prospects, name="kinds_prospects"),
    path("console/campaigns/<int:pk>/trigger/", kinds.trigger, name="kinds_trigger"),
    path("campaigns/<int:pk>/refer/", kinds.drive_refer, name="kinds_refer"),
]
