from django.urls import path

from core import views, webhook_views

app_name = "core"

urlpatterns = [
    path("console/settings/", views.program_settings, name="settings"),
    path("console/audit/", views.audit_log, name="audit"),
    path("console/webhooks/", webhook_views.webhook_list, name="webhooks"),
    path("console/webhooks/<int:pk>/", webhook_views.webhook_detail, name="webhook"),
    path("console/webhooks/<int:pk>/active/", webhook_views.webhook_active, name="webhook_active"),
    path("console/webhooks/<int:pk>/delete/", webhook_views.webhook_delete, name="webhook_delete"),
    path("console/webhooks/<int:pk>/test/", webhook_views.webhook_test, name="webhook_test"),
    path(
        "console/webhooks/<int:pk>/deliveries/<int:delivery_pk>/resend/",
        webhook_views.webhook_resend,
        name="webhook_resend",
    ),
    path("language/", views.language, name="language"),
    path("brand.css", views.brand_css, name="brand_css"),
]
