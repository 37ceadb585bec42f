"""factory_boy factories shared by every app's tests."""

from __future__ import annotations

import factory
from allauth.account.models import EmailAddress
from django.contrib.auth.models import Group
from django.utils import timezone

from advocates.models import (
    Advocate,
    CommunityGroup,
    Company,
    GroupMembership,
    Invitation,
    Product,
    Tag,
    User,
)
from advocates.services.matching_profiles import matching_profiles_refresh
from core.roles import MANAGERS_GROUP, REPS_GROUP

PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = factory.Faker("first_name")
    last_name = factory.Faker("last_name")

    @factory.post_generation
    def password(obj: User, create: bool, extracted: str | None, **kwargs: object) -> None:
        obj.set_password(extracted or PASSWORD)
        if create:
            obj.save(update_fields=["password"])
            EmailAddress.objects.create(user=obj, email=obj.email, verified=True, primary=True)

    @factory.post_generation
    def groups(obj: User, create: bool, extracted: list[str] | None, **kwargs: object) -> None:
        if create and extracted:
            for name in extracted:
                obj.groups.add(Group.objects.get_or_create(name=name)[0])

    totp = factory.PostGeneration(lambda obj, create, extracted, **_: _totp(obj, create, extracted))


# The authenticator secret of every test user given one (totp_code() computes its code).
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def totp_activate(user: User, secret: str = TOTP_SECRET) -> None:
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, secret)


def totp_code(secret: str = TOTP_SECRET, *, offset: int = 0) -> str:
    """The current 6-digit code of ``secret`` (``offset`` periods of 30 s later)."""
    import time

    from allauth.mfa.totp.internal.auth import format_hotp_value, hotp_value

    return format_hotp_value(hotp_value(secret, int(time.time()) // 30 + offset))


def _totp(obj: User, create: bool, extracted: bool | None) -> None:
    """Admins and managers get an authenticator app (they must have one: core.mfa);
    ``totp=False`` makes one without, ``totp=True`` gives anyone one."""
    if not create:
        return
    if extracted is None:
        extracted = obj.is_staff or obj.groups.filter(name=MANAGERS_GROUP).exists()
    if extracted:
        totp_activate(obj)


class ManagerFactory(UserFactory):
    @factory.post_generation
    def groups(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.groups.add(Group.objects.get_or_create(name=MANAGERS_GROUP)[0])

    # After ``groups``: the authenticator is for managers.
    totp = factory.PostGeneration(lambda obj, create, extracted, **_: _totp(obj, create, extracted))


class RepFactory(UserFactory):
    @factory.post_generation
    def groups(obj: User, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            obj.groups.add(Group.objects.get_or_create(name=REPS_GROUP)[0])


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    name = factory.Sequence(lambda n: f"Company {n}")
    domain = factory.Sequence(lambda n: f"company{n}.example")
    industry = "Software"
    size_band = Company.SizeBand.MEDIUM


class ProductFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Product
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Product {n}")


class TagFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Tag
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Tag {n}")


class AdvocateFactory(factory.django.DjangoModelFactory):
    """An active advocate with a zero balance (give points with rewards.services), and
    their matching profile, as the services that create advocates keep it (change their
    products, tags or profile through ``advocate_profile_update``, or call
    ``matching_profiles_refresh`` after a direct write)."""

    class Meta:
        model = Advocate
        skip_postgeneration_save = True

    user = factory.SubFactory(UserFactory)
    company = factory.SubFactory(CompanyFactory)
    title = "Director of Operations"
    seniority = Advocate.Seniority.DIRECTOR
    industry = "Software"
    status = Advocate.Status.ACTIVE
    joined_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def matching_profile(obj: Advocate, create: bool, extracted: object, **kwargs: object) -> None:
        if create:
            matching_profiles_refresh(advocate_ids=[obj.pk])


class GroupFactory(factory.django.DjangoModelFactory):
    """An open advocates' group; ``kind=CommunityGroup.Kind.INVITE`` or ``REQUEST`` for the
    others."""

    class Meta:
        model = CommunityGroup

    name = factory.Sequence(lambda n: f"Group {n}")
    description = "People who like talking shop."
    kind = CommunityGroup.Kind.OPEN
    invite_nonce = factory.Sequence(lambda n: f"group-nonce-{n:04d}")


class GroupMembershipFactory(factory.django.DjangoModelFactory):
    """A member (``status=GroupMembership.Status.PENDING`` for a request)."""

    class Meta:
        model = GroupMembership

    group = factory.SubFactory(GroupFactory)
    advocate = factory.SubFactory(AdvocateFactory)
    status = GroupMembership.Status.MEMBER
    joined_at = factory.LazyFunction(timezone.now)


class InvitationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Invitation

    email = factory.Sequence(lambda n: f"invitee{n}@example.com")
    first_name = "Ivy"
    last_name = "Invitee"
    company_name = "Invited Co"
    invited_by = factory.SubFactory(RepFactory)
    nonce = factory.Sequence(lambda n: f"nonce{n:04d}")
    send_count = 1
