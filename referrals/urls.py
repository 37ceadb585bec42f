from django.urls import path  # noqa: F401 - patterns are added as the app's views land

app_name = "referrals"

urlpatterns: list = []
