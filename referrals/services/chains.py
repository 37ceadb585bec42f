"""Referral chains: a won referral's customer invited to join as an advocate.

Whoever accepts that invitation was brought in by the referral (``Referral.invitation``,
read through ``Invitation.accepted_by``), so a referral they win later pays the first
advocate the rule's second-generation points (referrals.services.rewards).
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from advocates.models import User
from advocates.services import InvitationError, invitation_create
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
            raise ReferralError("No such referral.")
        if referral.stage != Stage.WON:
            raise ReferralError("Only a won referral's customer can be invited as an advocate.")
        if referral.invitation_id is not None:
            raise ReferralError(f"{referral.referred_name} was invited from this referral already.")
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
        except InvitationError as error:
            raise ReferralError(str(error)) from None
        except ValidationError:
            raise ReferralError(f"“{referral.referred_email}” cannot be invited.") from None
        except IntegrityError:
            # The open invitation of this address belongs to another referral's chain.
            raise ReferralError(
                f"{referral.referred_email} was invited from another referral already."
            ) from None
        if not linked:
            raise ReferralError(f"{referral.referred_name} was invited from this referral already.")
        referral.invitation = invitation
        audit_record(
            actor=actor,
            action="referral.invite_referred",
            target=referral,
            detail={"email": referral.referred_email, "invitation": invitation.pk},
        )
    return referral
