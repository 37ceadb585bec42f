"""Authorization cases for the program settings page, the public brand stylesheet and
the webhook pages."""

from __future__ import annotations

from core.models import WebhookDelivery, WebhookEndpoint
from tests.authz import MANAGERS, Case, World, allowed, everyone


def setup(world: World) -> None:
    # A closed local port: were a resend or test event sent, it would be refused at once.
    endpoint = WebhookEndpoint.objects.create(
        url="http://127.0.0.1:9/hook", secret="whsec_dGVzdA=="
    )
    world.objects["webhook"] = endpoint
    world.objects["webhook_delivery"] = WebhookDelivery.objects.create(
        endpoint=endpoint, event_id="evt_authz", event_type="webhook.test", payload={}
    )


def _webhook(world: World) -> dict:
    return {"pk": world["webhook"].pk}


def _delivery(world: World) -> dict:
    return {"pk": world["webhook"].pk, "delivery_pk": world["webhook_delivery"].pk}


CASES = [
    Case("core:settings", expect=allowed(roles=MANAGERS)),
    # Invalid (no colour): the form comes back with its errors, nothing saved.
    Case(
        "core:settings",
        method="post",
        data={"name": "x", "primary_color": "", "fatigue_cap_per_week": "2"},
        expect=allowed(roles=MANAGERS),
    ),
    Case(
        "core:settings",
        method="post",
        data={
            "name": "Authz",
            "primary_color": "#0f766e",
            "fatigue_cap_per_week": "2",
            "max_deal_amount": "100000000",
            "max_points_per_event": "1000000",
        },
        expect=allowed(302, roles=MANAGERS),
    ),
    # Every page links it, the sign-in and prospect pages included.
    Case("core:brand_css", expect=everyone(200)),
    Case("core:brand_css", method="post", expect=everyone(405)),
    # Anyone may choose the language they read in (a signed-in person's is saved).
    Case("core:language", method="post", data={"language": "de"}, expect=everyone(302)),
    Case("core:language", expect=everyone(405)),
    Case("core:webhooks", expect=allowed(roles=MANAGERS)),
    # Invalid (no URL): the form comes back with its errors, nothing created.
    Case("core:webhooks", method="post", data={"url": ""}, expect=allowed(roles=MANAGERS)),
    Case("core:webhook", kwargs=_webhook, expect=allowed(roles=MANAGERS)),
    Case("core:webhook", method="post", kwargs=_webhook, expect=allowed(405, roles=MANAGERS)),
    Case("core:webhook_test", kwargs=_webhook, expect=allowed(405, roles=MANAGERS)),
    Case("core:webhook_test", method="post", kwargs=_webhook, expect=allowed(302, roles=MANAGERS)),
    Case("core:webhook_resend", kwargs=_delivery, expect=allowed(405, roles=MANAGERS)),
    Case(
        "core:webhook_resend", method="post", kwargs=_delivery, expect=allowed(302, roles=MANAGERS)
    ),
    Case(
        "core:webhook_active",
        method="post",
        kwargs=_webhook,
        data={"active": "1"},
        expect=allowed(302, roles=MANAGERS),
    ),
    Case("core:webhook_active", kwargs=_webhook, expect=allowed(405, roles=MANAGERS)),
    Case("core:webhook_delete", kwargs=_webhook, expect=allowed(405, roles=MANAGERS)),
    Case(
        "core:webhook_delete", method="post", kwargs=_webhook, expect=allowed(302, roles=MANAGERS)
    ),
]
