from django.urls import path

from references import views
from references.views import calls, drives, graph

app_name = "references"

urlpatterns = [
    path("references/requests/", views.requests, name="requests"),
    path("references/requests/new/", views.request_new, name="request_new"),
    path("references/requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("references/requests/<int:pk>/send/", views.request_send, name="request_send"),
    path("references/requests/<int:pk>/ask/", views.request_ask, name="request_ask"),
    path("references/requests/<int:pk>/call/", views.request_call, name="request_call"),
    path("references/requests/<int:pk>/close/", views.request_close, name="request_close"),
    path(
        "references/requests/<int:pk>/meeting/time/",
        calls.request_meeting_time,
        name="request_meeting_time",
    ),
    path(
        "references/requests/<int:pk>/meeting/cancel/",
        calls.request_meeting_cancel,
        name="request_meeting_cancel",
    ),
    path(
        "references/requests/<int:pk>/meeting/attended/",
        calls.request_meeting_attended,
        name="request_meeting_attended",
    ),
    path(
        "references/requests/<int:pk>/meeting/invite.ics",
        calls.request_meeting_ics,
        name="request_meeting_ics",
    ),
    path("references/disputes/", calls.disputes, name="disputes"),
    path("references/disputes/<int:pk>/", calls.dispute_resolve, name="dispute_resolve"),
    path("references/graph/", graph.graph_page, name="graph"),
    path("references/graph/people/<int:pk>/", graph.graph_person, name="graph_person"),
    path("references/console/", views.console, name="console"),
    path("references/weights/", views.weights, name="weights"),
    path(
        "references/weights/industries/new/",
        drives.industry_weights_new,
        name="industry_weights_new",
    ),
    path(
        "references/weights/industries/<int:pk>/",
        drives.industry_weights_edit,
        name="industry_weights_edit",
    ),
    path("references/drives/", drives.drives, name="drives"),
    path("references/drives/<int:pk>/close/", drives.drive_close, name="drive_close"),
    path("references/drives/pick/", drives.drive_pick, name="drive_pick"),
    path("references/drives/pass/", drives.drive_pass, name="drive_pass"),
    path("references/mine/", views.my_requests, name="my_requests"),
    path("references/mine/pause/", views.pause, name="pause"),
    path("references/asks/<int:pk>/answer/", views.ask_answer, name="ask_answer"),
    path("references/asks/<int:pk>/feedback/", views.ask_feedback, name="ask_feedback"),
    path("references/asks/<int:pk>/call/", calls.ask_call, name="ask_call"),
    path("references/asks/<int:pk>/call/time/", calls.ask_call_time, name="ask_call_time"),
    path("references/asks/<int:pk>/call/cancel/", calls.ask_call_cancel, name="ask_call_cancel"),
    path(
        "references/asks/<int:pk>/call/attended/",
        calls.ask_call_attended,
        name="ask_call_attended",
    ),
    path("references/asks/<int:pk>/call/invite.ics", calls.ask_call_ics, name="ask_call_ics"),
    # The prospect's pages: a signed link bound to the request in the path.
    path("reference/<int:pk>/<str:token>/", views.prospect, name="prospect"),
    path(
        "reference/<int:pk>/<str:token>/feedback/",
        views.prospect_feedback,
        name="prospect_feedback",
    ),
    path("reference/<int:pk>/<str:token>/call/", calls.prospect_call, name="prospect_call"),
    path(
        "reference/<int:pk>/<str:token>/call/cancel/",
        calls.prospect_call_cancel,
        name="prospect_call_cancel",
    ),
    path(
        "reference/<int:pk>/<str:token>/call/invite.ics",
        calls.prospect_call_ics,
        name="prospect_call_ics",
    ),
    # "Did the call happen?": signed for one side of one meeting, no sign-in.
    path("reference/call/<int:pk>/<str:token>/", calls.attendance, name="attendance"),
]
