from django.urls import path

from advocates import views

app_name = "advocates"

urlpatterns = [
    path("hub/", views.hub, name="hub"),
    path("profile/", views.profile, name="profile"),
    path("people/", views.directory, name="directory"),
    path("people/<int:pk>/", views.advocate_detail, name="detail"),
    path("invitations/", views.invite, name="invite"),
    path("join/<str:token>/", views.accept, name="accept"),
    path("join/<str:token>/linkedin/", views.accept_linkedin, name="accept_linkedin"),
    # Groups: advocates
    path("groups/", views.groups, name="groups"),
    path("groups/<int:pk>/join/", views.group_join, name="group_join"),
    path("groups/<int:pk>/leave/", views.group_leave, name="group_leave"),
    path("groups/invite/<str:token>/", views.group_invite, name="group_invite"),
    # Groups: community managers
    path("console/groups/", views.group_manage, name="group_manage"),
    path("console/groups/new/", views.group_create, name="group_create"),
    path("console/groups/<int:pk>/", views.group_detail, name="group_detail"),
    path("console/groups/<int:pk>/edit/", views.group_edit, name="group_edit"),
    path("console/groups/<int:pk>/archive/", views.group_archive, name="group_archive"),
    path("console/groups/<int:pk>/rotate/", views.group_rotate, name="group_rotate"),
    path(
        "console/groups/requests/<int:pk>/decide/",
        views.group_request_decide,
        name="group_request_decide",
    ),
]
