"""Authorization cases for the suppression list and the email provider's webhook."""

from __future__ import annotations

from tests.authz import MANAGERS, Case, World, allowed, everyone


def setup(world: World) -> None:
    from campaigns.models import Suppression

    world.objects["suppression"] = Suppression.objects.create(
        email="authz-suppressed@example.com", reason=Suppression.Reason.MANUAL
    )


CASES = [
    Case("campaigns:suppression_list", expect=allowed(roles=MANAGERS)),
    Case(
        "campaigns:suppression_list",
        method="post",
        data={"email": "authz-new@example.com"},
        expect=allowed(302, roles=MANAGERS),
    ),
    Case("campaigns:suppression_export", expect=allowed(roles=MANAGERS)),
    Case(
        "campaigns:suppression_delete",
        method="post",
        kwargs=lambda w: {"pk": w["suppression"].pk},
        expect=allowed(302, roles=MANAGERS),
    ),
    # The provider's webhook: off (404) until EMAIL_PROVIDER and EMAIL_WEBHOOK_SECRET.
    Case(
        "campaigns:email_events",
        method="post",
        kwargs={"provider": "postmark"},
        expect=everyone(404),
    ),
]
