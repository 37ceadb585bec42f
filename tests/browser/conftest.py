"""Browser tests: Playwright (pytest-playwright) driving Debian's Chromium against
pytest-django's ``live_server``.

Locally they skip, with the reason, when Chromium, the playwright package or axe-core
(``npm ci``) is missing; in CI (``CI=true``) a missing piece is a failure instead, so the
journeys cannot silently stop running there.
"""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings as django_settings

# Playwright's sync API runs an event loop in this thread; Django's ORM refuses to run
# "inside" it unless told the calls are not really concurrent (they are not: the test
# waits for each browser action before it touches the database). Process-wide on
# purpose: the session's browser outlives these tests, and the tests that run after them
# in the same process would otherwise trip over its loop.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

# Debian's Chromium; VOUCH_CHROMIUM points elsewhere (another OS, another build).
CHROMIUM = Path(os.environ.get("VOUCH_CHROMIUM", "/usr/bin/chromium"))
AXE = Path(django_settings.BASE_DIR) / "node_modules" / "axe-core" / "axe.min.js"
SCREENSHOTS = Path(django_settings.BASE_DIR) / "artifacts" / "screenshots"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# axe-core impacts that fail a journey; "minor" and "moderate" are reported, not fatal.
BLOCKING_IMPACTS = {"serious", "critical"}
WIDTHS = {"desktop": (1280, 800), "phone": (375, 740)}


def _in_ci() -> bool:
    return os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if importlib.util.find_spec("pytest_playwright") is None:
        return "pytest-playwright is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install chromium)"
    if not AXE.exists():
        return f"{AXE.relative_to(django_settings.BASE_DIR)} is missing (run `npm ci`)"
    return None


def require_browser(*, module_level: bool = False) -> None:
    """Skip (locally) or fail (CI) when the browser tooling is not all here."""
    reason = _missing()
    if reason is None:
        return
    if _in_ci():
        pytest.fail(f"Browser tests must run in CI, but {reason}", pytrace=False)
    pytest.skip(
        f"browser tests need Chromium, Playwright and axe-core: {reason}",
        allow_module_level=module_level,
    )


if importlib.util.find_spec("pytest_playwright") is not None:

    @pytest.fixture(scope="session")
    def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
        # Playwright's own browser download cannot work here: launch Debian's Chromium.
        require_browser()
        return {
            **browser_type_launch_args,
            "executable_path": str(CHROMIUM),
            "headless": True,
            "args": CHROMIUM_ARGS,
        }

else:

    @pytest.fixture(scope="session")
    def browser() -> None:
        require_browser()


@pytest.fixture(scope="session")
def _live_server_static() -> Iterator[None]:
    # The live server builds its middleware once, before the per-test settings of
    # tests/conftest.py apply: let WhiteNoise read the source folders from the start
    # (no collectstatic run needed, no "No directory at staticfiles/" warning).
    from django.test import override_settings

    with override_settings(WHITENOISE_AUTOREFRESH=True, WHITENOISE_USE_FINDERS=True):
        yield


@pytest.fixture(scope="session")
def live_server(_live_server_static: None, live_server: Any) -> Any:
    return live_server


@pytest.fixture
def browser_env(settings, transactional_db: None, live_server) -> Iterator[Any]:
    """The live server with Celery tasks run in-process and email kept in mail.outbox.

    CI sets REDIS_URL, which would send tasks to a broker no worker listens to here:
    force eager tasks, so the invitation email exists when the page says "sent".
    """
    require_browser()
    from config.celery_app import app

    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    yield live_server
    app.conf.task_always_eager = saved


# --- Accessibility ----------------------------------------------------------------------


def format_violations(violations: list[dict[str, Any]]) -> str:
    lines = []
    for violation in violations:
        lines.append(
            f"[{violation['impact']}] {violation['id']}: {violation['help']} "
            f"({violation['helpUrl']})"
        )
        for node in violation["nodes"][:8]:
            target = " ".join(json.dumps(t) for t in node["target"])
            summary = node.get("failureSummary", "").replace("\n", " / ")
            lines.append(f"    at {target}\n       {node['html'][:160]}\n       {summary}")
    return "\n".join(lines)


@functools.cache
def axe_source() -> str:
    return AXE.read_text() + "\n;0"


def check_a11y(page: Any) -> list[dict[str, Any]]:
    """Run axe-core on the page; fail on any serious or critical violation.

    Returns the minor and moderate ones, which are reported but do not fail.
    """
    # Evaluated, not added as a <script> tag: the page's Content-Security-Policy blocks
    # inline script, and Playwright's evaluate is not subject to it. Once per document:
    # after an htmx swap the page still has it.
    if page.evaluate("() => typeof axe === 'undefined'"):
        page.evaluate(axe_source())
    # The page as it rests, not mid-request: htmx dims what it is refreshing (a segment's
    # count fades to 60 % while it is recounted), and a check that lands in that moment
    # would judge the faded text. Awaited, not slept: htmx removes these classes when done.
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')"
    )
    result = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    violations = result["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    assert not blocking, (
        f"axe-core found {len(blocking)} serious/critical violation(s) on {page.url}:\n"
        + format_violations(blocking)
    )
    return violations


def page_overflow(page: Any, width: int) -> int:
    """How many CSS pixels wider than ``width`` (the device's) the page is laid out.

    Not window.innerWidth alone: an emulated phone, like a real one, widens its layout
    viewport to fit content that sticks out (and zooms the page out), so innerWidth
    grows with the overflow.
    """
    return page.evaluate(
        "(width) => Math.max(0, document.documentElement.scrollWidth - width,"
        " window.innerWidth - width)",
        width,
    )


OVERFLOW_JS = """([width, limit]) => {
  const sticksOut = (el) => el.getBoundingClientRect().right > width + 0.5;
  const clipped = (el) => {  // inside a box that scrolls or clips sideways itself
    for (let p = el.parentElement; p && p !== document.body; p = p.parentElement) {
      if (getComputedStyle(p).overflowX !== "visible") return true;
    }
    return false;
  };
  const found = [];
  for (const el of document.body.querySelectorAll("*")) {
    if (!sticksOut(el) || [...el.children].some(sticksOut) || clipped(el)) continue;
    const name = el.tagName.toLowerCase() + (el.classList.length ? "." : "")
      + [...el.classList].join(".");
    const text = (el.textContent || "").trim().slice(0, 40);
    found.push(`${name} (to ${Math.round(el.getBoundingClientRect().right)}px) ${text}`);
    if (found.length >= limit) break;
  }
  return found;
}"""


def overflowing_elements(page: Any, width: int, limit: int = 5) -> list[str]:
    """The innermost elements sticking out past ``width`` (for messages)."""
    return page.evaluate(OVERFLOW_JS, [width, limit])


# --- A journey: numbered steps, each screenshotted and checked ---------------------------


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


@dataclass
class Journey:
    """Steps of one journey at one width: ``step(page, "name")`` saves
    ``artifacts/screenshots/<journey>/<width>/NN-name.png``, runs axe-core, and (for the
    pages a phone user sees) checks that nothing scrolls sideways."""

    name: str
    width_name: str
    base_url: str
    folder: Path
    number: int = 0
    server_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    csp_violations: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    contexts: list[Any] = field(default_factory=list)

    @property
    def width(self) -> int:
        return WIDTHS[self.width_name][0]

    @property
    def is_phone(self) -> bool:
        return self.width_name == "phone"

    def new_page(self, browser: Any, *, timezone_id: str | None = None) -> Any:
        """A fresh context (no cookies) and page at this journey's width (and, if given,
        in a browser whose clock reads ``timezone_id``)."""
        width, height = WIDTHS[self.width_name]
        context = browser.new_context(
            base_url=self.base_url,
            viewport={"width": width, "height": height},
            device_scale_factor=1,
            is_mobile=self.is_phone,
            has_touch=self.is_phone,
            **({"timezone_id": timezone_id} if timezone_id else {}),
        )
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        page.on("response", self._on_response)
        page.on("pageerror", lambda error: self.page_errors.append(f"{page.url}: {error}"))
        page.on("console", lambda message: self._on_console(page, message))
        return page

    def _on_console(self, page: Any, message: Any) -> None:
        # Chromium reports what the Content-Security-Policy blocked ("Refused to execute
        # inline script...", "Refused to apply inline style...") only in the console; the
        # page then silently misbehaves (an htmx swap or a button does nothing).
        if message.type == "error" and "Refused to" in message.text:
            self.csp_violations.append(f"{page.url}: {message.text}")

    def _on_response(self, response: Any) -> None:
        if (
            response.status >= 500
            and urlsplit(response.url).netloc == urlsplit(self.base_url).netloc
        ):
            self.server_errors.append(f"{response.status} {response.request.method} {response.url}")

    def step(self, page: Any, title: str, *, no_sideways_scroll: bool = False) -> None:
        page.wait_for_load_state("load")
        self.number += 1
        path = self.folder / f"{self.number:02d}-{_slug(title)}.png"
        page.screenshot(path=str(path), full_page=True)
        assert not self.server_errors, f"Server errors before step {title!r}: {self.server_errors}"
        assert not self.page_errors, f"JavaScript errors before step {title!r}: {self.page_errors}"
        assert not self.csp_violations, (
            f"Content-Security-Policy violations before step {title!r}: {self.csp_violations}"
        )
        minor = check_a11y(page)
        for violation in minor:
            impact, rule = violation["impact"], violation["id"]
            self.notes.append(f"{self.number:02d} {title}: [{impact}] {rule}")
        overflow = page_overflow(page, self.width) if self.is_phone else 0
        if overflow:
            culprits = "; ".join(overflowing_elements(page, self.width))
            # Advocate and prospect pages must fit a phone; on staff pages it is reported.
            assert not no_sideways_scroll, (
                f"Step {title!r} ({page.url}) scrolls sideways by {overflow}px at "
                f"{self.width}px wide ({culprits}); see {path}"
            )
            self.notes.append(
                f"{self.number:02d} {title}: scrolls sideways by {overflow}px ({culprits})"
            )


CALL_FAILED = pytest.StashKey[bool]()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Any:
    report = yield
    if report.when == "call":
        item.stash[CALL_FAILED] = report.failed
    return report


@pytest.fixture
def journey(
    request: pytest.FixtureRequest, browser_env: Any
) -> Iterator[Callable[[str, str], Journey]]:
    def start(name: str, width_name: str) -> Journey:
        folder = SCREENSHOTS / name / str(WIDTHS[width_name][0])
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()  # a rerun must not leave the previous run's extra steps behind
        started.append(
            Journey(name=name, width_name=width_name, base_url=browser_env.url, folder=folder)
        )
        return started[-1]

    started: list[Journey] = []
    yield start
    failed = request.node.stash.get(CALL_FAILED, False)
    for one in started:
        for index, context in enumerate(one.contexts, start=1):
            if failed:  # what each browser showed when the journey broke
                for page in context.pages:
                    name = f"{one.number + 1:02d}-failed-browser-{index}.png"
                    page.screenshot(path=str(one.folder / name), full_page=True)
            context.close()
        if not failed:  # after the last step too
            assert not one.csp_violations, f"CSP violations in {one.name}: {one.csp_violations}"
        if one.notes:
            print(f"\nReported, not failing ({one.name}, {one.width}px):")
            print("\n".join(f"  {note}" for note in one.notes))


# --- The top bar --------------------------------------------------------------------------


def nav_link(page: Any, name: str) -> Any:
    """A link of the main navigation, reachable: on a phone the links are folded behind
    the "Menu" button, which is opened first."""
    menu = page.get_by_role("button", name="Menu")
    if menu.is_visible() and menu.get_attribute("aria-expanded") != "true":
        menu.click()
    return page.get_by_role("navigation", name="Main").get_by_role("link", name=name, exact=True)
