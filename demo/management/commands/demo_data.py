"""Load the demo program once. Running it again changes nothing and does not fail."""

from __future__ import annotations

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.totp.internal.auth import TOTP
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils import timezone

from advocates.models import Advocate, Company, Product, Tag, User
from advocates.services.matching_profiles import matching_profiles_refresh
from api.models import APIKey
from api.scopes import SCOPES
from api.services import api_key_create
from core.roles import MANAGERS_GROUP, REPS_GROUP
from demo import (
    ams,
    campaign_kinds,
    campaigns,
    challenges,
    discussions,
    groups,
    references,
    referrals,
    rewards,
    segments,
)
from rewards.services.ledger import points_award

DEMO_PASSWORD = "vouch-demo-2026"  # noqa: S105 - the demo logins' published password
# The manager's authenticator app secret (managers must use two-factor authentication):
# add it to an authenticator app, or print the current code with `manage.py demo_totp`.
DEMO_TOTP_SECRET = "VOUCHDEMOVOUCHDEMOVOUCHDEMOVOUCH"  # noqa: S105 - published, see above
DEMO_API_KEY_NAME = "Demo: reads everything"

PEOPLE = [
    # email, first, last, role, company, title
    ("manager@demo.vouch", "Maya", "Manager", "manager", None, "Community manager"),
    ("rep@demo.vouch", "Ravi", "Rep", "rep", None, "Account executive"),
    ("rep2@demo.vouch", "Rosa", "Reyes", "rep", None, "Account executive"),
    ("advocate@demo.vouch", "Ada", "Advocate", "advocate", "Acme Health", "VP Operations"),
    ("dana@demo.vouch", "Dana", "Lee", "advocate", "Globex Bank", "Head of IT"),
    ("sam@demo.vouch", "Sam", "Okafor", "advocate", "Initech", "Engineering manager"),
]
COMPANIES = {
    "Acme Health": ("acmehealth.example", "Healthcare", Company.SizeBand.LARGE),
    "Globex Bank": ("globex.example", "Financial services", Company.SizeBand.ENTERPRISE),
    "Initech": ("initech.example", "Software", Company.SizeBand.MEDIUM),
}
PRODUCTS = ["Analytics", "Automation", "Integrations"]
TAGS = ["Fast onboarding", "Ease of use", "Great support", "ROI in 90 days"]


class Command(BaseCommand):
    help = "Create the demo people (one login per role) unless they exist already."

    def handle(self, *args: object, **options: object) -> None:
        with transaction.atomic():
            self._load()
        # After the commit, so the demo's own emails (printed by the console backend once
        # the transaction commits) come first and the logins are the last thing shown.
        self._print_logins()

    def _load(self) -> None:
        managers, _ = Group.objects.get_or_create(name=MANAGERS_GROUP)
        reps, _ = Group.objects.get_or_create(name=REPS_GROUP)
        products = [Product.objects.get_or_create(name=name)[0] for name in PRODUCTS]
        tags = [Tag.objects.get_or_create(name=name)[0] for name in TAGS]
        rep = None
        for index, (email, first, last, role, company_name, title) in enumerate(PEOPLE):
            user, created = User.objects.get_or_create(
                email=email, defaults={"first_name": first, "last_name": last}
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                if role == "manager":
                    user.is_staff = True
                    user.is_superuser = True
                user.save()
            EmailAddress.objects.get_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
            if role == "manager":
                user.groups.add(managers)
                if not Authenticator.objects.filter(
                    user=user, type=Authenticator.Type.TOTP
                ).exists():
                    TOTP.activate(user, DEMO_TOTP_SECRET)
            elif role == "rep":
                user.groups.add(reps)
                rep = rep or user
            else:
                assert company_name is not None  # every advocate in PEOPLE has a company
                domain, industry, size = COMPANIES[company_name]
                company, _ = Company.objects.get_or_create(
                    name=company_name,
                    defaults={"domain": domain, "industry": industry, "size_band": size},
                )
                advocate, made = Advocate.objects.get_or_create(
                    user=user,
                    defaults={
                        "company": company,
                        "title": title,
                        "industry": industry,
                        "seniority": Advocate.Seniority.DIRECTOR,
                        "status": Advocate.Status.ACTIVE,
                        "joined_at": timezone.now(),
                        "owner_rep": rep,
                        "reference_opt_in": True,
                        "bio": f"{title} at {company_name}.",
                    },
                )
                if made:
                    advocate.products.set(products[: 1 + index % len(products)])
                    advocate.tags.set(tags[index % len(tags) :: 2])
                    matching_profiles_refresh(advocate_ids=[advocate.pk])
                points_award(
                    advocate_id=advocate.pk,
                    amount=100,
                    reason="Welcome to the community",
                    idempotency_key=f"welcome:{advocate.pk}",
                )
        # Each app's demo content, in the order it builds on: idempotent like the rest.
        for module in (
            groups,
            discussions,
            challenges,
            rewards,
            references,
            referrals,
            ams,
            segments,
            campaigns,
            campaign_kinds,
        ):
            module.load(self.stdout)
        self._api_key()

    def _api_key(self) -> None:
        """A key that reads everything, to try the API. Like any key it exists in clear
        only once: printed by the first load, then only its prefix is shown."""
        self.api_token = ""
        if APIKey.objects.filter(name=DEMO_API_KEY_NAME).exists():
            return
        manager = User.objects.get(email=PEOPLE[0][0])
        _key, self.api_token = api_key_create(
            name=DEMO_API_KEY_NAME, scopes=list(SCOPES), by=manager
        )

    def _print_logins(self) -> None:
        self.stdout.write(self.style.SUCCESS("Demo data ready. Sign in at /accounts/login/ with:"))
        shown: set[str] = set()
        for email, _first, _last, role, _company, _title in PEOPLE:
            if role not in shown:
                shown.add(role)
                self.stdout.write(f"  {role:<9} {email:<22} password: {DEMO_PASSWORD}")
        self.stdout.write(
            "  The manager also needs a two-factor code: `make totp` prints the current one "
            f"(or add the secret {DEMO_TOTP_SECRET} to an authenticator app)."
        )
        if self.api_token:
            self.stdout.write(
                f"  API key (every scope; shown this once): {self.api_token}\n"
                f'  e.g. curl -H "Authorization: Bearer {self.api_token}" '
                f"{settings.SITE_URL}/api/v1/advocates   (docs: /api/v1/docs)"
            )
