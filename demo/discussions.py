"""Demo: two community threads, found again by title (running twice changes nothing).

A question in the healthcare & finance group that Ada asked and accepted Dana's answer
to (Dana got the answer's points through the ledger), and a program-wide idea Sam
shared, with votes and a manager's "under review".
"""

from __future__ import annotations

from typing import TextIO

from advocates.models import CommunityGroup, User
from discussions import services
from discussions.models import Thread
from discussions.selectors import viewer_for

QUESTION = "How do you get audit logs into your SIEM?"
IDEA = "A dark mode for the admin console"


def load(stdout: TextIO) -> None:
    people = {user.email: user for user in User.objects.filter(email__endswith="@demo.vouch")}
    ada, dana, sam = (people.get(f"{n}@demo.vouch") for n in ("advocate", "dana", "sam"))
    manager = people.get("manager@demo.vouch")
    if not (ada and dana and sam and manager):
        return
    group = CommunityGroup.objects.filter(name="Healthcare & finance admins").first()
    if not Thread.objects.filter(title=QUESTION).exists():
        question = services.thread_create(
            viewer=viewer_for(ada),
            kind=Thread.Kind.QUESTION,
            title=QUESTION,
            body="Our auditors want every admin action in **Splunk**. Has anyone wired "
            "the export up? @dana, I think you did this at Globex?",
            group_id=group.pk if group else None,
        )
        answer = services.reply_create(
            viewer=viewer_for(dana),
            thread_id=question.pk,
            body="Yes: turn on the webhook export, then point Splunk's HTTP Event "
            "Collector at it.\n\n1. Settings → Webhooks\n2. Pick `audit.*` events",
        )
        services.answer_accept(viewer=viewer_for(ada), reply_id=answer.pk)
    if not Thread.objects.filter(title=IDEA).exists():
        idea = services.thread_create(
            viewer=viewer_for(sam),
            kind=Thread.Kind.IDEA,
            title=IDEA,
            body="We run the console on a wall screen in the NOC; a dark theme would help.",
        )
        for voter in (ada, dana, sam):
            services.vote_toggle(viewer=viewer_for(voter), thread_id=idea.pk)
        services.idea_status_set(
            viewer=viewer_for(manager), thread_id=idea.pk, status=Thread.IdeaStatus.UNDER_REVIEW
        )
    stdout.write(f"Community: {Thread.objects.count()} threads.")
