from django.urls import path

from rewards import views

app_name = "rewards"

urlpatterns = [
    # Advocates
    path("rewards/", views.reward_catalog, name="catalog"),
    path("rewards/<int:pk>/redeem/", views.reward_redeem, name="redeem"),
    path("rewards/redemptions/", views.my_redemptions, name="my_redemptions"),
    path("rewards/redemptions/<int:pk>/", views.redemption_detail, name="redemption"),
    # Community managers
    path("console/rewards/", views.reward_manage, name="manage"),
    path("console/rewards/new/", views.reward_create, name="create"),
    path("console/rewards/<int:pk>/edit/", views.reward_edit, name="edit"),
    path("console/rewards/<int:pk>/deactivate/", views.reward_deactivate, name="deactivate"),
    path("console/fulfilment/", views.fulfilment, name="fulfilment"),
    path("console/fulfilment/<int:pk>/approve/", views.redemption_approve, name="approve"),
    path("console/fulfilment/<int:pk>/fulfil/", views.redemption_fulfil, name="fulfil"),
    path("console/fulfilment/<int:pk>/cancel/", views.redemption_cancel, name="cancel"),
    path(
        "console/fulfilment/<int:pk>/provider-retry/",
        views.redemption_provider_retry,
        name="provider_retry",
    ),
    # The fulfilment provider (signed by Tremendous; rewards.fulfilment)
    path("webhooks/tremendous/", views.tremendous_webhook, name="tremendous_webhook"),
]
