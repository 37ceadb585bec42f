from tests.authz import ADVOCATES, MANAGERS, STAFF, Case, World, allowed, everyone


def setup(world: World) -> None:
    from referrals.services import referral_link_for
    from tests.referrals.factories import ImportJobFactory, ReferralFactory

    world.objects["referral"] = ReferralFactory(advocate=world.advocate, owner_rep=world.rep)
    world.objects["link"] = referral_link_for(advocate_id=world.advocate.pk)
    world.objects["import_job"] = ImportJobFactory(created_by=world.manager)


def _referral(world: World) -> dict:
    return {"pk": world["referral"].pk}


CASES = [
    Case("referrals:tracker", expect=allowed(roles=ADVOCATES)),
    Case("referrals:new", expect=allowed(roles=ADVOCATES)),
    # An invalid POST re-renders the form (nothing created).
    Case("referrals:new", method="post", data={}, expect=allowed(roles=ADVOCATES)),
    Case("referrals:email", expect=allowed(roles=ADVOCATES)),
    Case("referrals:share", expect=allowed(roles=ADVOCATES)),
    Case("referrals:card", expect=allowed(roles=ADVOCATES)),
    # Landing pages are public: anyone, signed in or not.
    Case("referrals:card_landing", expect=everyone(200)),
    Case(
        "referrals:landing",
        kwargs=lambda w: {"code": w["link"].code},
        expect=everyone(200),
    ),
    Case(
        "referrals:landing",
        kwargs=lambda w: {"code": w["link"].card_code},
        expect=everyone(200),
    ),
    Case("referrals:landing", kwargs={"code": "nope"}, expect=everyone(404)),
    Case("referrals:rep_list", expect=allowed(roles=STAFF)),
    Case("referrals:rep_list", htmx=True, expect=allowed(roles=STAFF)),
    Case(
        "referrals:rep_list",
        data={"scope": "all"},
        expect=allowed(roles=STAFF),
    ),
    # The referral is routed to `rep`: another rep gets a 404, managers see all.
    Case(
        "referrals:rep_detail",
        kwargs=_referral,
        expect=allowed(roles=("rep", "manager"), overrides={"other_rep": 404}),
    ),
    Case(
        "referrals:advance",
        method="post",
        kwargs=_referral,
        data={"stage": "qualified"},
        expect=allowed(302, roles=("rep", "manager"), overrides={"other_rep": 404}),
    ),
    Case("referrals:advance", kwargs=_referral, expect=allowed(405, roles=STAFF)),
    Case(
        "referrals:assign",
        method="post",
        kwargs=_referral,
        data=lambda w: {"rep": w.rep.pk},
        expect=allowed(302, roles=MANAGERS),
    ),
    # The world's referral is not won: the rep is told why and sent back (nothing sent).
    Case(
        "referrals:invite_referred",
        method="post",
        kwargs=_referral,
        expect=allowed(302, roles=("rep", "manager"), overrides={"other_rep": 404}),
    ),
    Case("referrals:invite_referred", kwargs=_referral, expect=allowed(405, roles=STAFF)),
    Case("referrals:verbal", expect=allowed(roles=STAFF)),
    Case("referrals:kpis", expect=allowed(roles=MANAGERS)),
    Case(
        "referrals:kpis_json",
        data={"start": "2026-01-01", "end": "2026-02-01"},
        expect=allowed(roles=MANAGERS),
    ),
    Case("referrals:import", expect=allowed(roles=MANAGERS)),
    # A POST without a file re-renders the forms with an error (nothing imported).
    Case(
        "referrals:import",
        method="post",
        data={"kind": "referrals"},
        expect=allowed(roles=MANAGERS),
    ),
    # An import's page: managers only (every manager sees the program's imports).
    Case(
        "referrals:import_job",
        kwargs=lambda w: {"pk": w["import_job"].pk},
        expect=allowed(roles=MANAGERS),
    ),
    Case(
        "referrals:import_job",
        kwargs=lambda w: {"pk": w["import_job"].pk},
        htmx=True,
        expect=allowed(roles=MANAGERS),
    ),
    Case("referrals:import_job", kwargs={"pk": 999999}, expect=allowed(404, roles=MANAGERS)),
    # Signed by the CRM, no session: disabled (503) while CRM_INBOUND_SECRET is empty.
    Case("referrals:crm_events", method="post", expect=everyone(503)),
    Case("referrals:crm_events", expect=everyone(405)),
]
