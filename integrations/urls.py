from django.urls import path

from integrations.slack import views as slack

app_name = "integrations"

urlpatterns = [
    path("console/slack/", slack.slack_page, name="slack"),
    path("console/slack/install/", slack.slack_install, name="slack_install"),
    path("console/slack/oauth/callback/", slack.slack_oauth_callback, name="slack_oauth_callback"),
    path("console/slack/<int:pk>/channel/", slack.slack_channel, name="slack_channel"),
    path("console/slack/<int:pk>/uninstall/", slack.slack_uninstall, name="slack_uninstall"),
    # Signed by Slack (SLACK_SIGNING_SECRET), no session.
    path("slack/commands/", slack.slack_commands, name="slack_commands"),
    path("slack/interactivity/", slack.slack_interactivity, name="slack_interactivity"),
]
