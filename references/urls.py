from django.urls import path

from references import views

app_name = "references"

urlpatterns = [
    path("references/requests/", views.requests, name="requests"),
    path("references/requests/new/", views.request_new, name="request_new"),
    path("references/requests/<int:pk>/", views.request_detail, name="request_detail"),
    path("references/requests/<int:pk>/send/", views.request_send, name="request_send"),
    path("references/requests/<int:pk>/ask/", views.request_ask, name="request_ask"),
    path("references/requests/<int:pk>/call/", views.request_call, name="request_call"),
    path("references/requests/<int:pk>/close/", views.request_close, name="request_close"),
    path("references/graph/", views.graph_page, name="graph"),
    path("references/console/", views.console, name="console"),
    path("references/weights/", views.weights, name="weights"),
    path("references/mine/", views.my_requests, name="my_requests"),
    path("references/mine/pause/", views.pause, name="pause"),
    path("references/asks/<int:pk>/answer/", views.ask_answer, name="ask_answer"),
    path("references/asks/<int:pk>/feedback/", views.ask_feedback, name="ask_feedback"),
    # The prospect's pages: a signed link bound to the request in the path.
    path("reference/<int:pk>/<str:token>/", views.prospect, name="prospect"),
    path(
        "reference/<int:pk>/<str:token>/feedback/",
        views.prospect_feedback,
        name="prospect_feedback",
    ),
]
