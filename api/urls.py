from django.urls import path

from api import views

app_name = "api"

urlpatterns = [
    path("console/api-keys/", views.api_key_list, name="keys"),
    path("console/api-keys/<int:pk>/revoke/", views.api_key_revoke, name="key_revoke"),
]
