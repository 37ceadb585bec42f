from django.urls import path

from discussions import views

app_name = "discussions"

urlpatterns = [
    # Advocates and managers
    path("community/", views.thread_list, name="list"),
    path("community/new/", views.thread_new, name="new"),
    path("community/<int:pk>/", views.thread_detail, name="thread"),
    path("community/<int:pk>/reply/", views.reply_create, name="reply"),
    path("community/<int:pk>/vote/", views.vote, name="vote"),
    path("community/<int:pk>/unaccept/", views.answer_unaccept, name="unaccept"),
    path("community/<int:pk>/report/", views.report, name="report"),
    path("community/replies/<int:pk>/accept/", views.answer_accept, name="accept"),
    # Managers
    path("community/<int:pk>/status/", views.idea_status, name="status"),
    path("community/<int:pk>/lock/", views.thread_lock, name="lock"),
    path("community/<int:pk>/hide/", views.thread_hide, name="hide"),
    path("community/replies/<int:pk>/hide/", views.reply_hide, name="reply_hide"),
    path("console/community/reports/", views.moderation, name="moderation"),
    path("console/community/reports/<int:pk>/", views.report_decide, name="report_decide"),
]
