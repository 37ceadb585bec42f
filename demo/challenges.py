"""Demo challenges, a submission waiting for review and a few NPS answers. Idempotent."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TextIO

from django.utils import timezone

from advocates.models import Advocate, User
from challenges import services
from challenges.forms import NPS_QUESTION
from challenges.models import Challenge, Submission
from challenges.services import progress

Kind = Challenge.Kind

CHALLENGES: list[tuple[str, str, int, bool, int | None, dict[str, Any]]] = [
    # title, kind, points, auto_approve, days open, extra fields
    (
        "Share our spring launch on LinkedIn",
        Kind.SOCIAL_SHARE,
        50,
        True,
        10,
        {
            "description": "Share the launch post with your network, then paste the link to "
            "your post here.",
            "target_url": "https://www.linkedin.com/company/example/posts/",
        },
    ),
    (
        "Review us on G2",
        Kind.REVIEW,
        200,
        False,
        30,
        {
            "description": "An honest review helps peers like you decide. Paste the link to "
            "your review; a screenshot helps if it is still in moderation.",
            "target_url": "https://www.g2.com/",
        },
    ),
    (
        "What changed since you started using us?",
        Kind.TESTIMONIAL,
        100,
        False,
        None,
        {
            "description": "Two or three sentences in your own words. We may quote you "
            "(we always ask first).",
            "completion_limit": 1,
        },
    ),
    (
        "Quarterly pulse survey",
        Kind.SURVEY,
        75,
        True,
        21,
        {
            "description": "Two minutes, three questions. Your answers go straight to the "
            "product team.",
            "questions": [
                {"label": NPS_QUESTION, "kind": "nps"},
                {"label": "What should we build next?", "kind": "text"},
            ],
        },
    ),
    (
        "RSVP: Customer advisory webinar",
        Kind.EVENT,
        40,
        True,
        14,
        {
            "description": "See the roadmap first and tell the product team what matters to you.",
            "target_url": "https://events.example.com/advisory-webinar",
            "event_at_days": 15,
        },
    ),
    (
        "Show us your favourite dashboard",
        Kind.UPLOAD,
        80,
        False,
        45,
        {
            "description": "Upload a screenshot of the dashboard your team looks at every "
            "day (hide anything confidential).",
            "completion_limit": 2,
        },
    ),
]

NPS_ANSWERS = [
    # who, score, comment, what next
    ("sam@demo.vouch", 9, "Support answers within the hour.", "A Slack integration."),
    ("dana@demo.vouch", 6, "Great product, the reporting is slow.", "Faster reports."),
]


def load(stdout: TextIO) -> None:
    manager = User.objects.get(email="manager@demo.vouch")
    now = timezone.now()
    made = 0
    by_kind: dict[str, Challenge] = {}
    for title, kind, points, auto, days, extra in CHALLENGES:
        challenge = Challenge.objects.filter(title=title).first()
        if challenge is None:
            extra = dict(extra)
            event_days = extra.pop("event_at_days", None)
            challenge = services.challenge_create(
                created_by=manager,
                publish=True,
                data={
                    "title": title,
                    "kind": kind,
                    "points": points,
                    "auto_approve": auto,
                    "starts_at": now - timedelta(days=1),
                    "ends_at": now + timedelta(days=days) if days else None,
                    "event_at": now + timedelta(days=event_days) if event_days else None,
                    **extra,
                },
            )
            made += 1
        by_kind[kind] = challenge

    dana = Advocate.objects.filter(user__email="dana@demo.vouch").first()
    review = by_kind[Kind.REVIEW]
    if dana and not Submission.objects.filter(challenge=review, advocate=dana).exists():
        services.submission_create(
            challenge_id=review.pk,
            advocate_id=dana.pk,
            data=services.SubmissionInput(url="https://www.g2.com/products/example/reviews/1234"),
        )
    survey = by_kind[Kind.SURVEY]
    for email, score, comment, next_thing in NPS_ANSWERS:
        advocate = Advocate.objects.filter(user__email=email).first()
        if advocate and not Submission.objects.filter(challenge=survey, advocate=advocate).exists():
            services.submission_create(
                challenge_id=survey.pk,
                advocate_id=advocate.pk,
                data=services.SubmissionInput(
                    answers={
                        "questions": [
                            {"label": NPS_QUESTION, "answer": str(score), "comment": comment},
                            {"label": "What should we build next?", "answer": next_thing},
                        ]
                    },
                    nps_score=score,
                    nps_comment=comment,
                ),
            )
    stdout.write(f"Challenges: {made} created, {len(CHALLENGES) - made} already there.")
    progress.load_progress(stdout)  # default levels and badges (progress area)
