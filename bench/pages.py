"""The benchmarked pages: who opens them and where they are, found in the bench data.

Shared by ``bench/run`` (load and SQL counts) and tests/test_bench_data.py (the query
count of each page must not grow with the program). Add a page here when it lands.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from bench.generate import ADVOCATE_EMAIL, MANAGER_EMAIL, REP_EMAIL

ROLES = {"advocate": ADVOCATE_EMAIL, "rep": REP_EMAIL, "manager": MANAGER_EMAIL}
SEGMENT_COUNT_INDUSTRIES = ("Software", "Retail")
SEGMENT_COUNT_QUERY = "count=1&seniorities=vp&seniorities=director&has_referred=yes"


@dataclass(frozen=True)
class Page:
    name: str
    role: str  # a key of ROLES
    url: str
    group: str  # "advocate" or "console": which target applies


def _url(name: str, *args: object, query: str = "") -> str | None:
    try:
        return reverse(name, args=args) + (f"?{query}" if query else "")
    except NoReverseMatch:
        return None  # not built yet: the page joins the benchmark when it lands


def pages() -> list[Page]:
    from advocates.selectors import industries
    from challenges.models import Level
    from references.models import ReferenceRequest

    today = timezone.now().date()
    window = f"start={today - timedelta(days=90)}&end={today}"
    open_request = (
        ReferenceRequest.objects.filter(rep__email=REP_EMAIL, status=ReferenceRequest.Status.OPEN)
        .order_by("-pk")
        .values_list("pk", flat=True)
        .first()
    )
    # The second level (bench_data: "Advocate", 500 points and up), if there is one.
    second_level = Level.objects.order_by("threshold").values_list("pk", flat=True)[1:2].first()
    segment_query = SEGMENT_COUNT_QUERY + (f"&level={second_level}" if second_level else "")
    # Only industries the data has (a small program may lack one: the form would refuse
    # the filter and count nothing).
    present = set(industries())
    segment_query += "".join(
        f"&industries={name}" for name in SEGMENT_COUNT_INDUSTRIES if name in present
    )
    wanted = [
        # The floor of any signed-in page (bench/urls.py; not in the project's URLs, so
        # not in tests): middleware, session, user, roles and an empty base.html.
        ("signed-in floor", "advocate", _url("bench_signed_in"), "floor"),
        ("hub", "advocate", _url("advocates:hub"), "advocate"),
        ("challenge list", "advocate", _url("challenges:list"), "advocate"),
        (
            "leaderboard week",
            "advocate",
            _url("challenges:leaderboard", query="period=week"),
            "advocate",
        ),
        (
            "leaderboard month",
            "advocate",
            _url("challenges:leaderboard", query="period=month"),
            "advocate",
        ),
        (
            "leaderboard all",
            "advocate",
            _url("challenges:leaderboard", query="period=all"),
            "advocate",
        ),
        ("reward catalog", "advocate", _url("rewards:catalog"), "advocate"),
        ("referral tracker", "advocate", _url("referrals:tracker"), "advocate"),
        (
            "rep reference request + matches",
            "rep",
            _url("references:request_detail", open_request) if open_request else None,
            "console",
        ),
        ("rep reference requests", "rep", _url("references:requests"), "console"),
        ("rep referral pipeline", "rep", _url("referrals:rep_list"), "console"),
        ("console home", "manager", _url("console:home"), "console"),
        # The segment editor's live count (the "Count" button; htmx sends the same GET on
        # every change) for a typical referral-drive audience: two industries, senior
        # people, already referring, at least the second level. The editor with no filter
        # would count every active advocate, which nobody segments by.
        (
            "segment count",
            "manager",
            _url("campaigns:segment_create", query=segment_query),
            "console",
        ),
        ("console people", "manager", _url("advocates:directory"), "console"),
        ("console challenges", "manager", _url("challenges:manage"), "console"),
        ("console review queue", "manager", _url("challenges:review"), "console"),
        ("console fulfilment", "manager", _url("rewards:fulfilment"), "console"),
        ("console references", "manager", _url("references:console"), "console"),
        ("console referral KPIs", "manager", _url("referrals:kpis"), "console"),
        ("referral KPIs JSON", "manager", _url("referrals:kpis_json", query=window), "console"),
    ]
    return [Page(name, role, url, group) for name, role, url, group in wanted if url]
