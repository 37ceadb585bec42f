"""What each kind of campaign adds.

Contract used by sending (campaigns.sending) and the campaign services:

- ``audience(campaign)`` → None when the campaign's recipients are its segment's
  advocates; otherwise an iterable of ``Recipient`` (invitation contacts, the advocates
  and prospects a reference drive pairs). A trigger campaign's audience is empty: its
  messages are created one advocate at a time when the trigger fires (campaigns.triggers).
- ``message_context(message)`` → extra placeholder values for one message
  (e.g. ``referral_link``, ``challenge_link``, ``invitation_link``, ``prospect_name``).
- ``PLACEHOLDERS`` → kind → the extra placeholder names that kind allows.
- ``kind_problems(...)`` → what keeps a campaign of that kind from being sent (a
  missing required placeholder, a closed challenge, no paired prospects...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from advocates.links import invitation_url
from advocates.models import Advocate, Invitation, User
from advocates.services import InvitationError, invitation_create
from campaigns.models import Campaign, CampaignContact, CampaignMessage, CampaignProspect
from challenges.models import Challenge
from core.i18n import site_language
from referrals.models import ReferralLink
from referrals.services import referral_link_for

# A campaign whose recipients may still change.
EDITABLE = (Campaign.Status.DRAFT, Campaign.Status.SCHEDULED)
# A referral drive advocates can still send from their hub.
REFERRAL_DRIVE_ACTIVE = (Campaign.Status.SENDING, Campaign.Status.SENT)


@dataclass(frozen=True)
class Recipient:
    email: str
    first_name: str = ""
    last_name: str = ""
    advocate_id: int | None = None
    context: dict = field(default_factory=dict)


PLACEHOLDERS: dict[str, frozenset[str]] = {
    Campaign.Kind.INVITATION: frozenset({"invitation_link"}),
    Campaign.Kind.CHALLENGE: frozenset({"challenge_link", "challenge_title"}),
    Campaign.Kind.REFERRAL_DRIVE: frozenset({"referral_link"}),
    Campaign.Kind.REFERENCE_DRIVE: frozenset(
        {
            "prospect_name",
            "prospect_company",
            "advocate_name",
            "advocate_title",
            "advocate_company",
            "match_reasons",
        }
    ),
}

# Placeholders a kind's body must use: an invitation without its link is useless.
REQUIRED_PLACEHOLDERS: dict[str, frozenset[str]] = {
    Campaign.Kind.INVITATION: frozenset({"invitation_link"}),
}

_PLACEHOLDER = re.compile(r"{{\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*}}")


def placeholders_in(text: str) -> set[str]:
    return set(_PLACEHOLDER.findall(text or ""))


def kind_problems(
    *, kind: str, body: str, subject: str = "", challenge=None, campaign: Campaign | None = None
) -> list[str]:
    """Why a campaign of ``kind`` cannot be sent as written ([] when it can).

    Checked when the campaign is saved and again before it starts (the challenge may
    have closed, the prospects may not be paired yet).
    """
    problems = []
    used = placeholders_in(body) | placeholders_in(subject)
    for name in sorted(REQUIRED_PLACEHOLDERS.get(kind, frozenset()) - used):
        problems.append(
            _("The body must contain %(placeholder)s: it is the link they need.")
            % {"placeholder": f"{{{{ {name} }}}}"}
        )
    if kind == Campaign.Kind.CHALLENGE:
        problems += challenge_problems(challenge)
    if campaign is not None and campaign.pk and not campaign.trigger:
        if kind == Campaign.Kind.INVITATION and not campaign.contacts.exists():
            problems.append(_("Import the contacts to invite first."))
        if (
            kind == Campaign.Kind.REFERENCE_DRIVE
            and not campaign.prospects.filter(advocate__isnull=False).exists()
        ):
            problems.append(_("Import the prospects and pair them with advocates first."))
    return problems


def challenge_problems(challenge: Challenge | None) -> list[str]:
    if challenge is None:
        return [_("Choose the challenge to announce.")]
    now = timezone.now()
    if challenge.status != Challenge.Status.PUBLISHED:
        return [
            _("“%(title)s” is not published: publish it before announcing it.")
            % {"title": challenge.title}
        ]
    if challenge.ends_at is not None and challenge.ends_at <= now:
        return [
            _("“%(title)s” has ended: advocates could no longer take part.")
            % {"title": challenge.title}
        ]
    return []


# --- Audience ---------------------------------------------------------------------------


def audience(campaign: Campaign) -> Iterable[Recipient] | None:
    if campaign.trigger:
        return []
    if campaign.kind == Campaign.Kind.INVITATION:
        return _invitation_audience(campaign)
    if campaign.kind == Campaign.Kind.REFERENCE_DRIVE:
        return reference_drive_audience(campaign)
    return None


def _invitation_audience(campaign: Campaign) -> Iterator[Recipient]:
    # Someone who joined (or got an account) since the import is not invited again.
    contacts = (
        CampaignContact.objects.filter(campaign=campaign)
        .exclude(Exists(User.objects.filter(email__iexact=OuterRef("email"))))
        .order_by("id")
    )
    for contact in contacts.iterator(chunk_size=2000):
        yield Recipient(
            email=contact.email,
            first_name=contact.first_name,
            last_name=contact.last_name,
            context={"contact_id": contact.pk},
        )


def _join(values: list[str]) -> str:
    """ "A, B and C", in the site's language (kept in each message's context)."""
    with translation.override(site_language()):
        return str(get_text_list([value for value in values if value], _("and")))


def public_reasons(reasons: list[dict]) -> str:
    """The reasons of a pairing both sides may read (matching's public wording)."""
    return "; ".join(reason["public"] for reason in reasons if reason.get("public"))


def reference_drive_audience(campaign: Campaign) -> list[Recipient]:
    """Both sides of every pairing: each prospect, and each paired advocate once.

    One message per (campaign, email): an advocate paired with several prospects gets
    one email naming them all.
    """
    prospects = list(
        CampaignProspect.objects.filter(campaign=campaign, advocate__isnull=False)
        .select_related("advocate__user", "advocate__company")
        .order_by("id")
    )
    recipients: list[Recipient] = []
    by_advocate: dict[int, tuple[Advocate, list[CampaignProspect]]] = {}
    for prospect in prospects:
        advocate = prospect.advocate
        if advocate is None:  # the query keeps paired prospects only
            continue
        by_advocate.setdefault(advocate.pk, (advocate, []))[1].append(prospect)
        first, _, last = prospect.name.partition(" ")
        recipients.append(
            Recipient(
                email=prospect.email,
                first_name=first,
                last_name=last,
                context={
                    "side": "prospect",
                    "prospect_id": prospect.pk,
                    "prospect_name": prospect.name,
                    "prospect_company": prospect.company,
                    "advocate_name": advocate.name,
                    "advocate_title": advocate.title,
                    "advocate_company": advocate.company.name if advocate.company else "",
                    "match_reasons": public_reasons(prospect.reasons),
                },
            )
        )
    for advocate, mine in by_advocate.values():
        reasons = [
            f"{p.name}: {public_reasons(p.reasons)}" if len(mine) > 1 else public_reasons(p.reasons)
            for p in mine
        ]
        recipients.append(
            Recipient(
                email=advocate.user.email,
                first_name=advocate.user.first_name,
                last_name=advocate.user.last_name,
                advocate_id=advocate.pk,
                context={
                    "side": "advocate",
                    "prospect_ids": [p.pk for p in mine],
                    "prospect_name": _join([p.name for p in mine]),
                    "prospect_company": _join(sorted({p.company for p in mine})),
                    "advocate_name": advocate.name,
                    "advocate_title": advocate.title,
                    "advocate_company": advocate.company.name if advocate.company else "",
                    "match_reasons": " / ".join(reasons),
                },
            )
        )
    return recipients


# --- Per-message values -----------------------------------------------------------------


def message_context(message: CampaignMessage) -> dict[str, str]:
    campaign = message.campaign
    kind = campaign.kind
    if kind == Campaign.Kind.INVITATION:
        return {"invitation_link": invitation_link(message)}
    if kind == Campaign.Kind.CHALLENGE:
        challenge = campaign.challenge
        if challenge is None:
            return {"challenge_link": "", "challenge_title": ""}
        return {
            "challenge_link": settings.SITE_URL
            + reverse("challenges:detail", kwargs={"pk": challenge.pk}),
            "challenge_title": challenge.title,
        }
    if kind == Campaign.Kind.REFERRAL_DRIVE:
        return {"referral_link": referral_link(message.advocate_id)}
    if kind == Campaign.Kind.REFERENCE_DRIVE:
        stored = message.context or {}
        return {name: str(stored.get(name, "")) for name in PLACEHOLDERS[kind]}
    return {}


def messages_context(messages: list[CampaignMessage]) -> dict[int, dict[str, str]]:
    """``message_context`` for the messages of a batch it can look up together (message
    pk → values), in O(1) queries; the others are left to ``message_context``.

    Referral links are read in one query for the batch (per message, the lookup was a
    query per email). Invitations stay per message, as each may create one, and so does
    anything cheap; a message left out is looked up when its email is built, where an
    error fails that message alone.
    """
    if not messages or messages[0].campaign.kind != Campaign.Kind.REFERRAL_DRIVE:
        return {}
    links = referral_links([m.advocate_id for m in messages if m.advocate_id])
    return {
        m.pk: {"referral_link": links.get(m.advocate_id, "") if m.advocate_id else ""}
        for m in messages
    }


def referral_links(advocate_ids: list[int]) -> dict[int, str]:
    """Each advocate's referral link, absolute: one query, plus one create per missing link."""
    wanted = set(advocate_ids)
    codes = dict(
        ReferralLink.objects.filter(advocate_id__in=wanted).values_list("advocate_id", "code")
    )
    for advocate_id in wanted - codes.keys():
        codes[advocate_id] = referral_link_for(advocate_id=advocate_id).code
    # reverse() once: the code is the only part that changes.
    prefix = settings.SITE_URL + reverse("referrals:landing", kwargs={"code": "CODE"})
    head, _, tail = prefix.rpartition("CODE")
    return {advocate_id: f"{head}{code}{tail}" for advocate_id, code in codes.items()}


def referral_link(advocate_id: int | None) -> str:
    """The advocate's own referral link (created on first use), absolute."""
    if advocate_id is None:
        return ""
    link = referral_link_for(advocate_id=advocate_id)
    return settings.SITE_URL + reverse("referrals:landing", kwargs={"code": link.code})


def invitation_link(message: CampaignMessage) -> str:
    """The link of a real invitation for this contact (advocates.services), made once.

    Idempotent per message: the invitation is remembered on the contact, and an open
    invitation for the address is reused as it is (re-inviting would rotate its nonce
    and break a link already emailed). Someone who joined meanwhile gets the sign-in page.
    """
    email = message.email.lower()
    contact = CampaignContact.objects.filter(campaign_id=message.campaign_id, email=email).first()
    invitation = (
        Invitation.objects.filter(email__iexact=email, accepted_at__isnull=True)
        .order_by("-created_at")
        .first()
    )
    if invitation is None:
        try:
            invitation = invitation_create(
                email=email,
                # A deleted creator leaves None (SET_NULL), which invitations accept.
                invited_by=message.campaign.created_by,  # type: ignore[arg-type]
                first_name=contact.first_name if contact else message.first_name,
                last_name=contact.last_name if contact else message.last_name,
                company_name=contact.company_name if contact else "",
                title=contact.title if contact else "",
                send=False,
            )
        except InvitationError:
            # A member already, or invited this very moment by someone else.
            invitation = Invitation.objects.filter(
                email__iexact=email, accepted_at__isnull=True
            ).first()
            if invitation is None:
                return settings.SITE_URL + reverse("account_login")
    if contact is not None and contact.invitation_id != invitation.pk:
        CampaignContact.objects.filter(pk=contact.pk).update(invitation=invitation)
    return invitation_url(invitation)
