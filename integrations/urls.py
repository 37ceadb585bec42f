from django.urls import path

from integrations.crm import views as crm
from integrations.slack import views as slack

app_name = "integrations"

urlpatterns = [
    path("console/slack/", slack.slack_page, name="slack"),
    path("console/slack/install/", slack.slack_install, name="slack_install"),
    path("console/slack/oauth/callback/", slack.slack_oauth_callback, name="slack_oauth_callback"),
    path("console/slack/<int:pk>/channel/", slack.slack_channel, name="slack_channel"),
    path("console/slack/<int:pk>/uninstall/", slack.slack_uninstall, name="slack_uninstall"),
    path("console/crm/", crm.crm_page, name="crm"),
    path("console/crm/<str:provider>/connect/", crm.crm_connect, name="crm_connect"),
    path("console/crm/<str:provider>/oauth/callback/", crm.crm_callback, name="crm_callback"),
    path("console/crm/salesforce/jwt/", crm.crm_connect_jwt, name="crm_connect_jwt"),
    path("console/crm/<int:pk>/sync/", crm.crm_sync_now, name="crm_sync_now"),
    path("console/crm/<int:pk>/stages/", crm.crm_stage_map, name="crm_stage_map"),
    path("console/crm/<int:pk>/disconnect/", crm.crm_disconnect, name="crm_disconnect"),
    path("console/crm/<int:pk>/runs/<int:run_pk>/", crm.crm_run, name="crm_run"),
    # Reps and managers: CRM contacts to invite, and the CRM record's reference link.
    path("crm/contacts/", crm.crm_candidates, name="crm_candidates"),
    path("crm/contacts/<int:pk>/invite/", crm.crm_candidate_invite, name="crm_candidate_invite"),
    path(
        "crm/<str:provider>/deals/<str:external_id>/reference/",
        crm.crm_reference,
        name="crm_reference",
    ),
    # Signed by Slack (SLACK_SIGNING_SECRET), no session.
    path("slack/commands/", slack.slack_commands, name="slack_commands"),
    path("slack/interactivity/", slack.slack_interactivity, name="slack_interactivity"),
]
