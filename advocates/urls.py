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
]
