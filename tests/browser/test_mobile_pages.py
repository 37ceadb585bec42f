"""Every page of every role in Chromium: nothing scrolls sideways, no serious or critical
axe-core violation. Advocate, rep and prospect pages at a phone's 375 px; the manager's
console at 1280 and 375 px.

The pages are listed from the URL patterns (each view declares its role), not by hand:
a new page is visited as soon as it exists. Pages with an id or a token in their URL
need an object: ``PAGE_KWARGS`` builds it, or ``NOT_PAGES`` says why it is no page (a
POST action, a download, a redirect); a parameterised URL in neither fails the test.

Each role first sees its pages with an empty program (a fresh advocate with nothing,
no challenges, no rewards): the empty states are pages too. Then one of each object is
made and the pages that show one object are visited; a page whose state did not change
since it was checked (same DOM) is not checked again. A page with a problem
is screenshotted in ``artifacts/screenshots/mobile/<role>/<width>/``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.utils import timezone

from core.models import WebhookEndpoint
from core.roles import Role
from tests import factories
from tests.browser.conftest import (
    AXE,
    BLOCKING_IMPACTS,
    SCREENSHOTS,
    format_violations,
    overflowing_elements,
    require_browser,
)

require_browser(module_level=True)
from playwright.sync_api import expect  # noqa: E402  (only once it is known to exist)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE, DESKTOP = 375, 1280
AXE_SOURCE = AXE.read_text() + "\n;0"
FOREIGN = ("allauth.",)
# Names that are not pages to look at, with the reason (parameterised ones must be here
# or in PAGE_KWARGS; parameterless ones answering 405 or non-HTML are skipped anyway).
NOT_PAGES = {
    "home": "redirects to the role's start page",
    "healthz": "JSON",
    "readyz": "JSON",
    "metrics": "Prometheus text",
    "campaigns:email_events": "the email provider's webhook (POST, JSON)",
    "campaigns:suppression_delete": "POST",
    "core:brand_css": "a stylesheet",
    "core:language": "POST: switches the language, then back to the page",
    "core:webhook_active": "POST",
    "core:webhook_delete": "POST",
    "core:webhook_test": "POST",
    "core:webhook_resend": "POST",
    "advocates:accept_linkedin": "redirects to LinkedIn",
    "challenges:submit": "POST",
    "challenges:publish": "POST",
    "challenges:review_decide": "POST",
    "discussions:reply": "POST",
    "discussions:vote": "POST",
    "discussions:unaccept": "POST",
    "discussions:report": "POST",
    "discussions:accept": "POST",
    "discussions:status": "POST",
    "discussions:lock": "POST",
    "discussions:hide": "POST",
    "discussions:reply_hide": "POST",
    "discussions:report_decide": "POST",
    "rewards:deactivate": "POST",
    "rewards:approve": "POST",
    "rewards:fulfil": "POST",
    "rewards:cancel": "POST",
    "references:request_send": "POST",
    "references:request_ask": "POST",
    "references:request_call": "POST",
    "references:request_close": "POST",
    "references:ask_answer": "POST",
    "references:ask_feedback": "POST",
    "referrals:advance": "POST",
    "referrals:assign": "POST",
    "referrals:invite_referred": "POST",
    "referrals:crm_events": "webhook",
    "console:export": "CSV download",
    "console:campaign_export": "CSV download",
    "campaigns:segment_export": "CSV download",
    "campaigns:campaign_start": "POST",
    "campaigns:campaign_pause": "POST",
    "campaigns:campaign_resume": "POST",
    "campaigns:campaign_cancel": "POST",
    "campaigns:track_open": "a tracking pixel",
    "campaigns:track_click": "a redirect",
    "campaigns:kinds_refer": "POST",
    "campaigns:kinds_contacts": "only for invitation campaigns (journey d)",
    "campaigns:kinds_prospects": "only for reference drives (journey d)",
    "campaigns:kinds_trigger": "only for trigger campaigns (journey d)",
    "campaigns:unsubscribe": "journey (d) visits it with a real message token",
    "integrations:slack_install": "redirects to Slack",
    "integrations:slack_oauth_callback": "Slack's redirect back (a state from the install)",
    "integrations:slack_channel": "POST",
    "integrations:slack_uninstall": "POST",
    "integrations:slack_commands": "Slack's signed POST",
    "integrations:crm_connect": "redirects to the CRM",
    "integrations:crm_callback": "the CRM's redirect back (a state from Connect)",
    "integrations:crm_connect_jwt": "POST",
    "integrations:crm_sync_now": "POST",
    "integrations:crm_stage_map": "POST",
    "integrations:crm_disconnect": "POST",
    "integrations:crm_candidate_invite": "POST",
    "integrations:slack_interactivity": "Slack's signed POST",
    # Reference calls booked in Vouch: their pages need a meeting in a given state; the
    # scheduling journey visits each with axe at 1280 and 375 px
    # (tests/browser/test_journey_scheduling.py).
    "references:ask_call": "the scheduling journey (a meeting to offer, move, confirm)",
    "references:prospect_call": "the scheduling journey (the prospect's signed call page)",
    "references:attendance": "the scheduling journey (the signed 'did it happen?' page)",
    "references:ask_call_time": "POST",
    "references:ask_call_cancel": "POST",
    "references:ask_call_attended": "POST",
    "references:ask_call_ics": "an .ics download",
    "references:request_meeting_time": "POST",
    "references:request_meeting_cancel": "POST",
    "references:request_meeting_attended": "POST",
    "references:request_meeting_ics": "an .ics download",
    "references:prospect_call_cancel": "POST",
    "references:prospect_call_ics": "an .ics download",
    "references:dispute_resolve": "POST",
    "references:drive_close": "POST",
    "references:drive_pick": "POST",
    "references:drive_pass": "POST",
    "rewards:provider_retry": "POST",
    "advocates:group_join": "POST",
    "advocates:group_leave": "POST",
    "advocates:group_archive": "POST",
    "advocates:group_rotate": "POST",
    "advocates:group_request_decide": "POST",
    "api:key_revoke": "POST",
    # The REST API answers JSON to a key, not pages (tests/api/). Its docs page is Swagger
    # UI's own markup, not ours: it is loaded under our CSP by test_journey_api.py, but
    # neither axe-clean nor phone-sized (said in docs/api.md).
    "api-v1:api-root": "no page: the API has no root (404)",
    "api-v1:openapi-view": "Swagger UI's markup (tests/browser/test_journey_api.py)",
    "sso_oidc_callback": "the identity provider's redirect back (404 until OIDC is set up)",
    **{
        f"api-v1:{resource}_detail": "JSON (the REST API)"
        for resource in (
            "advocates",
            "companies",
            "challenges",
            "submissions",
            "rewards",
            "redemptions",
            "referrals",
            "reference_requests",
            "ledger",
        )
    },
}


def _url_names() -> list[tuple[str, Any, bool]]:
    """(name, view, has parameters) of every named project URL."""
    found: list[tuple[str, Any, bool]] = []

    def walk(resolver: URLResolver, prefix: str) -> None:
        for pattern in resolver.url_patterns:
            if isinstance(pattern, URLResolver):
                module = getattr(pattern.urlconf_module, "__name__", "")
                if pattern.namespace == "admin" or module.startswith(FOREIGN):
                    continue
                walk(pattern, f"{prefix}{pattern.namespace}:" if pattern.namespace else prefix)
            elif isinstance(pattern, URLPattern) and pattern.name:
                has_params = bool(pattern.pattern.regex.groupindex)
                found.append((prefix + pattern.name, pattern.callback, has_params))

    walk(get_resolver(), "")
    return found


def pages_for(role: str) -> tuple[list[str], list[str]]:
    """The URL names a role's pages are made of: (parameterless, parameterised)."""
    plain, with_params = [], []
    for name, view, has_params in _url_names():
        if name in NOT_PAGES:
            continue
        roles = set(getattr(view, "vouch_roles", ()) or ())
        public = getattr(view, "vouch_public", False)
        wanted = {
            "advocate": Role.ADVOCATE in roles,
            "rep": Role.REP in roles,
            "manager": Role.MANAGER in roles,
            "prospect": public,
        }[role]
        if wanted:
            (with_params if has_params else plain).append(name)
    return sorted(plain), sorted(with_params)


# --- The people and the objects the parameterised pages show -----------------------------


def _people() -> dict[str, Any]:
    rep = factories.RepFactory(email="rhea.rep@example.com", first_name="Rhea", last_name="Ray")
    advocate = factories.AdvocateFactory(
        user__email="ada.lovelace-with-a-long-address@example.com",
        user__first_name="Ada",
        user__last_name="Lovelace-Montgomery",
        owner_rep=rep,
    )
    manager = factories.ManagerFactory(
        email="maya.manager@example.com", first_name="Maya", last_name="Lind"
    )
    return {"advocate": advocate, "rep": rep, "manager": manager}


def _objects(people: dict[str, Any]) -> dict[str, Any]:
    from advocates import links as advocate_links
    from advocates import services as advocate_services
    from campaigns.models import Campaign, Segment
    from console.models import AmsIndustryWeights
    from integrations.slack.crypto import token_encrypt
    from integrations.slack.models import SlackInstallation
    from references.links import FEEDBACK_SALT, prospect_token
    from references.models import IndustryWeights, ReferenceDrive, ReferenceRequest
    from referrals.services import referral_link_for
    from tests.challenges.factories import ChallengeFactory, SubmissionFactory
    from tests.references.factories import CandidateFactory, ReferenceRequestFactory
    from tests.referrals.factories import ImportJobFactory, ReferralFactory
    from tests.rewards.factories import RewardFactory, give_points, redeem

    advocate, rep, manager = people["advocate"], people["rep"], people["manager"]
    challenge = ChallengeFactory(title="Write a short review of how your team uses us")
    reward = RewardFactory(name="Coffee gift card", points_cost=10)
    give_points(advocate, 100)
    request = ReferenceRequestFactory(
        rep=rep,
        status=ReferenceRequest.Status.WITH_PROSPECT,
        link_nonce="mobile",
        link_sent_at=timezone.now() - timedelta(hours=1),
    )
    CandidateFactory(request=request, advocate=advocate)
    # A reference drive offering an open request: the hub shows it as a suggestion.
    drive = ReferenceDrive.objects.create(name="Spring reference drive", created_by=rep)
    drive.requests.set(
        [
            ReferenceRequestFactory(
                rep=rep,
                prospect_name="Maximiliana Bartholomew-Richardson",
                prospect_title="Vice President of Global Procurement Operations",
            )
        ]
    )
    invitation = advocate_services.invitation_create(
        email="new.friend@example.com", first_name="Noor", invited_by=rep
    )
    segment = Segment.objects.create(name="Promoters", filters={}, created_by=manager)
    # A request group with a long name: the advocate is a member, someone else asks.
    group = factories.GroupFactory(
        name="Customer advisory board for platform administrators", kind="request"
    )
    factories.GroupMembershipFactory(group=group, advocate=advocate)
    factories.GroupMembershipFactory(group=group, status="pending", joined_at=None)
    campaign = Campaign.objects.create(
        name="Spring referral drive",
        kind=Campaign.Kind.REFERRAL_DRIVE,
        subject="Know someone?",
        body="Hi {{ first_name }}",
        segment=segment,
        created_by=manager,
    )
    return {
        "advocate": advocate,
        "challenge": challenge,
        "submission": SubmissionFactory(challenge=challenge, advocate=advocate),
        "reward": reward,
        "redemption": redeem(advocate, reward),
        "request": request,
        "industry_weights": IndustryWeights.objects.create(for_industry="Healthcare"),
        "ams_industry": AmsIndustryWeights.objects.create(
            for_industry="Healthcare", weights={"reviews": 30}
        ),
        "choice_token": prospect_token(request),
        "feedback_token": prospect_token(request, purpose=FEEDBACK_SALT),
        "invitation_token": advocate_links.invitation_token(invitation),
        "link": referral_link_for(advocate_id=advocate.pk),
        "referral": ReferralFactory(advocate=advocate, owner_rep=rep),
        "webhook": WebhookEndpoint.objects.create(
            url="http://127.0.0.1:9/hook", secret="whsec_dGVzdA=="
        ),
        # Mid-way, so the progress bar (and its polling) is what the phone shows.
        "import_job": ImportJobFactory(
            status="running", started_at=timezone.now(), rows_read=400, created=380
        ),
        "segment": segment,
        "campaign": campaign,
        "group": group,
        "group_token": advocate_links.group_invite_token(group),
        # Connected, so the Slack page shows its channel form (Slack's API is unreachable
        # in the tests: the form falls back to a channel ID).
        "slack": SlackInstallation.objects.create(
            team_id="T9TK3CUKW",
            team_name="Acme Sales",
            bot_token_encrypted=token_encrypt("xoxb-browser"),
            channel_id="C0123ABCD",
            channel_name="customer-references",
            installed_by=manager,
            installed_at=timezone.now(),
        ),
        "crm_run": _crm(people),
        "person": _graph_person(people, request),
        "thread": _thread(advocate, group),
    }


def _graph_person(people: dict[str, Any], request: Any) -> Any:
    """A contact with long interests who moved to the request's company: the rep's
    Signals page lists the move, the person page shows both."""
    from advocates.models import JobChange, Person, PersonInterest
    from console.models import JobChangeNotice

    person = Person.objects.create(
        full_name="Maximiliana Featherstonehaugh-Cholmondeley",
        email="maximiliana@burlington-textiles.example",
        company_name=request.prospect_company,
        title="Director of Information Security and Data Governance",
    )
    for name in ("data privacy", "ROI", "migration from on-premises data warehouses"):
        PersonInterest.objects.create(person=person, name=name)
    change = JobChange.objects.create(
        person=person,
        from_company="Burlington Textiles Corporation of America",
        to_company=request.prospect_company,
    )
    JobChangeNotice.objects.create(job_change=change, rep=people["rep"], request=request)
    return person


def _thread(advocate: Any, group: Any) -> Any:
    """A group question with a long title, a code block and an accepted answer."""
    from tests.discussions.factories import ReplyFactory, ThreadFactory

    thread = ThreadFactory(
        author=advocate.user,
        group=group,
        title="How do platform administrators roll out single sign-on to every subsidiary?",
        body="We tried this:\n\n```\nsso_enforce --all-subsidiaries --dry-run=false\n```",
    )
    reply = ReplyFactory(thread=thread, body="Start with one subsidiary as a **pilot**.")
    thread.accepted_reply = reply
    thread.save(update_fields=["accepted_reply"])
    return thread


def _crm(people: dict[str, Any]) -> Any:
    """Salesforce connected, with a finished run that had a record refused, a contact the
    rep may invite, and a deal for the rep's "Request a reference" link."""
    from integrations.crm.models import CrmConnection, CrmContact, CrmDeal, CrmOwner, SyncRun
    from integrations.crm.tokens import BOX

    crm = CrmConnection.objects.create(
        provider="salesforce",
        account_id="00Dx0000000BV7z",
        account_name="Acme Corporation (production)",
        access_token_encrypted=BOX.encrypt("browser"),
        connected_by=people["manager"],
    )
    run = SyncRun.objects.create(
        connection=crm,
        trigger=SyncRun.Trigger.MANUAL,
        status=SyncRun.Status.PARTIAL,
        counts={
            "companies": {"created": 120, "updated": 4, "unchanged": 2000},
            "deals": {"created": 35, "referrals_moved": 2},
            "out": {"referrals": 3, "companies": 41, "failed": 1},
        },
        finished_at=timezone.now(),
    )
    run.errors.create(
        object_name="companies",
        direction="out",
        external_id="001Dn00000AbCdEfGh",
        local="company Burlington Textiles Corp of America",
        message="Not a field in the CRM: Vouch_AMS__c",
    )
    owner = CrmOwner.objects.create(
        connection=crm, external_id="005Dn000001", email=people["rep"].email, user=people["rep"]
    )
    CrmContact.objects.create(
        connection=crm,
        external_id="003Dn000001",
        email="jonathan.wellington-smythe@burlington-textiles.example",
        first_name="Jonathan",
        last_name="Wellington-Smythe",
        title="Senior Vice President, Global Procurement",
        owner=owner,
    )
    CrmDeal.objects.create(
        connection=crm, external_id="006Dn00000Acme", name="Burlington expansion", owner=owner
    )
    return run


PAGE_KWARGS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "advocates:detail": lambda o: {"pk": o["advocate"].pk},
    "advocates:accept": lambda o: {"token": o["invitation_token"]},
    "challenges:detail": lambda o: {"pk": o["challenge"].pk},
    "discussions:thread": lambda o: {"pk": o["thread"].pk},
    "challenges:submission": lambda o: {"pk": o["submission"].pk},
    "challenges:edit": lambda o: {"pk": o["challenge"].pk},
    "challenges:archive": lambda o: {"pk": o["challenge"].pk},
    "rewards:redeem": lambda o: {"pk": o["reward"].pk},
    "rewards:redemption": lambda o: {"pk": o["redemption"].pk},
    "rewards:edit": lambda o: {"pk": o["reward"].pk},
    "references:request_detail": lambda o: {"pk": o["request"].pk},
    "references:industry_weights_edit": lambda o: {"pk": o["industry_weights"].pk},
    "console:ams_industry": lambda o: {"pk": o["ams_industry"].pk},
    "references:graph_person": lambda o: {"pk": o["person"].pk},
    "references:prospect": lambda o: {"pk": o["request"].pk, "token": o["choice_token"]},
    "references:prospect_feedback": lambda o: {
        "pk": o["request"].pk,
        "token": o["feedback_token"],
    },
    "referrals:landing": lambda o: {"code": o["link"].code},
    "referrals:rep_detail": lambda o: {"pk": o["referral"].pk},
    "referrals:import_job": lambda o: {"pk": o["import_job"].pk},
    "campaigns:segment_detail": lambda o: {"pk": o["segment"].pk},
    "campaigns:segment_edit": lambda o: {"pk": o["segment"].pk},
    "campaigns:segment_delete": lambda o: {"pk": o["segment"].pk},
    "campaigns:campaign_detail": lambda o: {"pk": o["campaign"].pk},
    "campaigns:campaign_edit": lambda o: {"pk": o["campaign"].pk},
    "campaigns:campaign_preview": lambda o: {"pk": o["campaign"].pk},
    "core:webhook": lambda o: {"pk": o["webhook"].pk},
    "integrations:crm_run": lambda o: {"pk": o["crm_run"].connection_id, "run_pk": o["crm_run"].pk},
    "integrations:crm_reference": lambda o: {
        "provider": "salesforce",
        "external_id": "006Dn00000Acme",
    },
    "advocates:group_invite": lambda o: {"token": o["group_token"]},
    "advocates:group_detail": lambda o: {"pk": o["group"].pk},
    "advocates:group_edit": lambda o: {"pk": o["group"].pk},
    "challenges:group_leaderboard": lambda o: {"pk": o["group"].pk},
}


# --- Signing in ---------------------------------------------------------------------------


def sign_in(page: Any, user: Any) -> None:
    """Through the sign-in page, with the authenticator code when the role needs one
    (the shared helper in tests/browser/conftest.py when there is one)."""
    from tests.browser import conftest

    shared = getattr(conftest, "sign_in", None)
    if shared is not None:
        shared(page, user.email, factories.PASSWORD)
        return
    page.goto(reverse("account_login"))
    page.get_by_label("Email").fill(user.email)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_load_state("load")
    code = page.get_by_label("Code")
    if "/accounts/login/" not in page.url and code.count():
        code.fill(factories.totp_code())
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_load_state("load")
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


# --- Visiting -----------------------------------------------------------------------------


# The page as laid out, minus what differs between two responses of the same page (the
# CSRF token, the CSP nonce): two visits with the same state need one check.
STATE_JS = """() => {
  const copy = document.documentElement.cloneNode(true);
  for (const el of copy.querySelectorAll("[nonce]")) el.removeAttribute("nonce");
  for (const el of copy.querySelectorAll("[hx-headers]")) el.removeAttribute("hx-headers");
  for (const el of copy.querySelectorAll("input[name=csrfmiddlewaretoken]")) {
    el.removeAttribute("value");
  }
  return copy.outerHTML;
}"""


class Visit:
    """One signed-in browser that checks each page at one or more widths.

    With several widths a page is loaded once and checked at each of them in turn,
    axe-core run again at each: the server sends the same document whatever the width.
    The context is then a phone's (Chromium's mobile emulation: the viewport meta tag,
    touch, overlay scrollbars), loaded at the phone width and widened for the desktop
    check; a desktop's classic scrollbar would only make the 1280 px check 15 px roomier.
    """

    def __init__(self, browser: Any, base_url: str, role: str, widths: tuple[int, ...]) -> None:
        self.role, self.widths = role, widths
        self.folders = {width: SCREENSHOTS / "mobile" / role / str(width) for width in widths}
        for folder in self.folders.values():
            folder.mkdir(parents=True, exist_ok=True)
            for old in folder.glob("*.png"):
                old.unlink()
        phone = PHONE in widths
        self.context = browser.new_context(
            base_url=base_url,
            viewport={"width": PHONE if phone else widths[0], "height": 740 if phone else 800},
            device_scale_factor=1,
            is_mobile=phone,
            has_touch=phone,
        )
        self.context.set_default_timeout(10_000)
        self.page = self.context.new_page()
        self.problems: list[str] = []
        self.seen: list[str] = []
        self.is_page: dict[str, bool] = {}  # url -> answers with an HTML page
        self.checked: dict[str, str] = {}  # url -> the state last checked
        self.page.on("pageerror", lambda error: self.problems.append(f"JS error: {error}"))
        self.page.on("console", self._console)

    def _console(self, message: Any) -> None:
        if message.type == "error" and "Refused to" in message.text:
            self.problems.append(f"{self.page.url}: CSP: {message.text}")

    def _answers_with_a_page(self, url: str) -> bool:
        # Asked first with the context's cookies: Chromium refuses to show an empty 405.
        # Whether a URL is a page depends on its view, not on the data: asked once.
        if url not in self.is_page:
            probe = self.page.request.get(url)
            self.is_page[url] = probe.status != 405 and "text/html" in probe.headers.get(
                "content-type", ""
            )
        return self.is_page[url]

    def check(self, url: str, label: str) -> None:
        if not self._answers_with_a_page(url):
            return  # an action or a download, not a page
        self._emulate(self.widths[0])
        response = self.page.goto(url)
        self.page.wait_for_load_state("load")
        assert response is not None
        self.seen.append(url)
        name = f"{len(self.seen):02d}-{re.sub(r'[^a-z0-9]+', '-', label)}.png"
        if response.status != 200:
            self.problems.append(f"{label} ({url}) as {self.role}: HTTP {response.status}")
            return
        state = self.page.evaluate(STATE_JS)
        if self.checked.get(url) == state:
            return  # laid out exactly as when it was checked: the same result
        self.checked[url] = state
        # Evaluated rather than added as a <script>: the Content-Security-Policy allows
        # no inline script, and DevTools evaluation is not subject to it.
        self.page.evaluate(AXE_SOURCE)
        for width in self.widths:
            if width != self.widths[0]:
                self._emulate(width)
            self._check_layout(url, label, width, self.folders[width] / name)

    def _emulate(self, width: int) -> None:
        if len(self.widths) > 1:  # one width: the context was made for it
            self.page.set_viewport_size({"width": width, "height": 740 if width == PHONE else 800})

    def _check_layout(self, url: str, label: str, width: int, shot: Any) -> None:
        where = f"{label} ({url}) as {self.role} at {width}px, see {shot}"
        problems = len(self.problems)
        try:
            sideways = self.page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            if sideways > 0:
                culprits = "; ".join(overflowing_elements(self.page, width))
                self.problems.append(f"{where}: scrolls sideways by {sideways}px ({culprits})")
            result = self.page.evaluate(
                "async () => await axe.run(document, {resultTypes: ['violations']})"
            )
            blocking = [v for v in result["violations"] if v["impact"] in BLOCKING_IMPACTS]
            if blocking:
                self.problems.append(f"{where}: axe-core\n{format_violations(blocking)}")
        finally:
            if len(self.problems) > problems:  # a screenshot of each page with a problem
                self.page.screenshot(path=str(shot), full_page=True)


def _visit_all(browser: Any, live_server: Any, role: str, widths: tuple[int, ...]) -> None:
    people = _people()
    plain, with_params = pages_for(role)
    unknown = sorted(set(with_params) - set(PAGE_KWARGS))
    assert not unknown, f"Pages with parameters and no object to show: {unknown} (PAGE_KWARGS)"
    visit = Visit(browser, live_server.url, role, widths)
    try:
        if role != "prospect":
            sign_in(visit.page, people[role].user if role == "advocate" else people[role])
        # An empty program first: every list page shows its empty state.
        for name in plain:
            visit.check(reverse(name), f"empty {name}")
        objects = _objects(people)
        for name in plain:  # and the same pages with something in them
            visit.check(reverse(name), name)
        for name in with_params:
            visit.check(reverse(name, kwargs=PAGE_KWARGS[name](objects)), name)
    finally:
        visit.context.close()
    assert visit.seen, f"no page visited as {role}"
    assert not visit.problems, "\n\n".join(visit.problems)


@pytest.mark.parametrize("role", ["advocate", "rep", "prospect"])
def test_phone_pages_fit_and_pass_axe(browser, browser_env, role: str) -> None:
    _visit_all(browser, browser_env, role, (PHONE,))


def test_console_pages_fit_and_pass_axe_at_phone_and_desktop_width(browser, browser_env) -> None:
    _visit_all(browser, browser_env, "manager", (PHONE, DESKTOP))


def test_rejecting_a_submission_asks_first(browser, browser_env) -> None:
    """An irreversible action (a rejection the advocate is told about) needs a yes."""
    from challenges.models import Submission
    from tests.challenges.factories import ChallengeFactory, SubmissionFactory

    people = _people()
    challenge = ChallengeFactory(title="Tell us a story", auto_approve=False)
    submission = SubmissionFactory(
        challenge=challenge, advocate=people["advocate"], status=Submission.Status.PENDING
    )
    visit = Visit(browser, browser_env.url, "confirm", (DESKTOP,))  # its own screenshot folder
    page = visit.page
    try:
        sign_in(page, people["manager"])
        page.goto(reverse("challenges:review"))
        item = page.locator(f"#submission-{submission.pk}")
        questions: list[str] = []

        def answer(dialog: Any, accept: bool) -> None:
            questions.append(dialog.message)
            dialog.accept() if accept else dialog.dismiss()

        decisions: list[str] = []  # every POST the page sends (a decision)

        def record(request: Any) -> None:
            if request.method == "POST":
                decisions.append(request.url)

        page.on("request", record)

        item.get_by_label("Reason for rejecting").fill("The link does not open.")
        page.once("dialog", lambda dialog: answer(dialog, False))
        item.get_by_role("button", name="Reject", exact=True).click()
        submission.refresh_from_db()
        assert submission.status == Submission.Status.PENDING, "cancelled, nothing happened"
        assert questions
        assert "Reject this submission?" in questions[0]

        page.once("dialog", lambda dialog: answer(dialog, True))
        item.get_by_role("button", name="Reject", exact=True).click()
        expect(page.get_by_text("Rejected.")).to_be_visible()
        submission.refresh_from_db()
        assert submission.status == Submission.Status.REJECTED
        # The page sent the second click's request only: the cancelled one sent none (it
        # would have gone out first, so it is recorded by now).
        assert len(decisions) == 1, decisions
    finally:
        visit.context.close()
