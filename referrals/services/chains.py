"""Referral chains: a won referral's customer invited to join as an advocate.

Whoever accepts that invitation was brought in by the referral (``Referral.invitation``,
read through ``Invitation.accepted_by``), so a referral they win later pays the first
advocate the rule's second-generation points (referrals.services.rewards).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext

from advocates.models import User
from advocates.services import InvitationError, invitation_create
from core import fragments
from core.audit import audit_record
from referrals.models import Referral, Stage
from referrals.services import ReferralError


def referral_invite_referred(*, referral_id: int, actor: User) -> Referral:
    """Invite a won referral's customer to join the community (one click, rep or manager).

    Raises ReferralError (nothing sent, nothing linked) if the referral is not won, was
    invited already, or the address cannot be invited (already a member, invalid).
    """
    with transaction.atomic():
        referral = Referral.objects.select_for_update().filter(pk=referral_id).first()
        if referral is None:
            raise ReferralError(gettext("No such referral."))
        if referral.stage != Stage.WON:
            raise ReferralError(
                gettext("Only a won referral's customer can be invited as an advocate.")
            )
        if referral.invitation_id is not None:
            raise ReferralError(
                gettext("%(name)s was invited from this referral already.")
                % {"name": referral.referred_name}
            )
        first, _, last = referral.referred_name.partition(" ")
        try:
            with transaction.atomic():
                invitation = invitation_create(
                    email=referral.referred_email,
                    invited_by=actor,
                    first_name=first[:150],
                    last_name=last[:150],
                    company_name=referral.referred_company,
                    title=referral.referred_title,
                )
                # Conditional on no invitation yet: the row lock above already orders two
                # clicks; this keeps the link unique if it did not.
                linked = Referral.objects.filter(pk=referral.pk, invitation__isnull=True).update(
                    invitation=invitation
                )
                fragments.advocates_changed([referral.advocate_id])
        except InvitationError as error:
            raise ReferralError(str(error)) from None
        except ValidationError:
            raise ReferralError(
                gettext("“%(email)s” cannot be invited.") % {"email": referral.referred_email}
            ) from None
        except IntegrityError:
            # The open invitation of this address belongs to another referral's chain.
            raise ReferralError(
                gettext("%(email)s was invited from another referral already.")
                % {"email": referral.referred_email}
            ) from None
        if not linked:
            raise ReferralError(
                gettext("%(name)s was invited from this referral already.")
                % {"name": referral.referred_name}
            )
        referral.invitation = invitation
        audit_record(
            actor=actor,
            action="referral.invite_referred",
            target=referral,
            detail={"email": referral.referred_email, "invitation": invitation.pk},
        )
    return referral
