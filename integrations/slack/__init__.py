"""Slack: an app installed per workspace from the console (OAuth v2), notifications to a
chosen channel and to the owner rep by DM, a pending-reviews digest, and the
``/vouch reference`` command whose modal creates a reference request.

- ``models``: one ``SlackInstallation`` per workspace, its bot token encrypted (``crypto``).
- ``api``: the Web API client (slack_sdk) and the errors that mean "retry" or "broken".
- ``install``: the OAuth v2 install, channel choice, uninstall (console services).
- ``notify``: the domain events and the daily digest, as Block Kit messages.
- ``commands``: the signed requests from Slack: the slash command and the modal.
"""
