from django.urls import path

from console import views

app_name = "console"

urlpatterns = [
    path("console/", views.console_home, name="home"),
    path("console/analytics/", views.analytics_page, name="analytics"),
    path("console/ams/", views.ams_settings, name="ams"),
    path("console/ams/industries/new/", views.ams_industry, name="ams_industry_new"),
    path("console/ams/industries/<int:pk>/", views.ams_industry, name="ams_industry"),
    path("console/exports/", views.exports_page, name="exports"),
    path("console/exports/<slug:kind>.csv", views.export_csv, name="export"),
    path("console/exports/campaigns/<int:pk>.csv", views.campaign_export, name="campaign_export"),
    path("console/prospect-events/", views.prospect_events, name="prospect_events"),
    path("signals/", views.signals, name="signals"),
    path("console/forecast/", views.referral_forecast_page, name="referral_forecast"),
    path("console/roi/", views.program_roi_page, name="program_roi"),
]
