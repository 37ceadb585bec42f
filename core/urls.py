from django.urls import path

from core import views

app_name = "core"

urlpatterns = [
    path("console/settings/", views.program_settings, name="settings"),
    path("console/audit/", views.audit_log, name="audit"),
    path("brand.css", views.brand_css, name="brand_css"),
]
