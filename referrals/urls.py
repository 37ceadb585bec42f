from django.urls import path

from referrals import api, import_views, kpi_views, views

app_name = "referrals"

urlpatterns = [
    # Advocates
    path("referrals/", views.tracker, name="tracker"),
    path("referrals/new/", views.lead_new, name="new"),
    path("referrals/email/", views.email_new, name="email"),
    path("referrals/share/", views.share, name="share"),
    path("referrals/card/", views.card, name="card"),
    # Public landing pages: an advocate's link or card code, or type a card code.
    path("r/", views.landing, name="card_landing"),
    path("r/<str:code>/", views.landing, name="landing"),
    # Reps and managers
    path("referrals/pipeline/", views.rep_list, name="rep_list"),
    path("referrals/pipeline/<int:pk>/", views.rep_detail, name="rep_detail"),
    path("referrals/pipeline/<int:pk>/stage/", views.advance, name="advance"),
    path("referrals/pipeline/<int:pk>/assign/", views.assign, name="assign"),
    path("referrals/pipeline/<int:pk>/invite/", views.invite_referred, name="invite_referred"),
    path("referrals/verbal/", views.verbal, name="verbal"),
    # Console (managers)
    path("console/referrals/", kpi_views.kpis, name="kpis"),
    path("console/referrals/kpis.json", kpi_views.kpis_json, name="kpis_json"),
    path("console/referrals/import/", import_views.import_upload, name="import"),
    path("console/referrals/import/<int:pk>/", import_views.import_job, name="import_job"),
    # CRM API (signed, no session)
    path("api/crm/events", api.crm_events, name="crm_events"),
]
