"""Real-browser fixtures: one headless Chromium per session, a fresh context per test.

Chromium is Debian's (`/usr/bin/chromium`); Playwright's own download is not used. Without
it the browser tests skip on a workstation, and fail under CI (`CI=true`), which must run them.
"""

import os
from dataclasses import dataclass, field

import pytest

from tests.conftest import Personas

# Playwright's sync API runs an event loop in this thread; Django's ORM (used by the tests'
# factories while the browser is open) refuses to run inside one unless told it is safe.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = os.environ.get("BROWSER_TESTS_CHROMIUM", "/usr/bin/chromium")  # for trying the skip
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]
TIMEOUT_MS = 5_000  # a step that takes longer than this is broken, not slow

# Runs in every document before the page's own scripts. Playwright injects it through the
# DevTools protocol, so the page's CSP does not apply to it.
CSP_LISTENER = """
document.addEventListener("securitypolicyviolation", (e) => {
  (window.__csp = window.__csp || []).push(e.violatedDirective);
  if (window.__reportCsp) window.__reportCsp(e.violatedDirective, e.blockedURI, e.documentURI);
});
"""


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "browser_context(**options): options for the test's Playwright context")


@dataclass
class Problems:
    """What went wrong in the page while the test ran: console errors, uncaught exceptions
    and CSP violations, over every document the page showed."""

    console_errors: list = field(default_factory=list)
    page_errors: list = field(default_factory=list)
    csp_violations: list = field(default_factory=list)

    def all(self, page=None):
        found = ([f"console: {e}" for e in self.console_errors]
                 + [f"exception: {e}" for e in self.page_errors]
                 + [f"CSP: {e}" for e in self.csp_violations])
        if page is not None:  # the current document's own record, read synchronously
            found += [f"CSP (window.__csp): {d}" for d in page.evaluate("window.__csp || []")]
        return found

    def assert_none(self, page=None):
        found = self.all(page)
        assert not found, "\n".join(found)


@pytest.fixture(scope="session")
def browser():
    if not os.access(CHROMIUM, os.X_OK):
        message = f"Chromium is not installed at {CHROMIUM}"
        if os.environ.get("CI") == "true":
            pytest.fail(f"{message}; CI must run the browser tests.", pytrace=False)
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def problems():
    return Problems()


@pytest.fixture
def page(browser, problems, request):
    """A page in a fresh context (no cookies); `problems` collects what went wrong in it.

    `@pytest.mark.browser_context(bypass_csp=True)` passes options to the context.
    """
    marker = request.node.get_closest_marker("browser_context")
    options = {"viewport": {"width": 1366, "height": 900}, **(marker.kwargs if marker else {})}
    context = browser.new_context(**options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.on("console", lambda msg: msg.type == "error" and problems.console_errors.append(
        f"{msg.text} ({msg.location.get('url')})"))
    page.on("pageerror", lambda exc: problems.page_errors.append(str(exc)))
    page.expose_function("__reportCsp", lambda directive, blocked, document:
                         problems.csp_violations.append(f"{directive} blocked {blocked!r} "
                                                        f"on {document}"))
    page.add_init_script(CSP_LISTENER)
    yield page
    context.close()


@pytest.fixture
def personas(transactional_db):
    """tests.conftest.Personas, committed so that the live server's thread sees them."""
    return Personas()


PASSWORD = "correct horse battery staple"


def sign_in(page, live_server, username, password=PASSWORD, then=None, land=False):
    """Sign in through the form; `then`, a path to open afterwards. Sign-in lands on the
    dashboard: with `land` the page stays there, else it opens the queue, where most
    tests start."""
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.get_by_role("button", name="Sign in").click()
    if then:
        page.goto(f"{live_server.url}{then}")
    elif not land and page.url.endswith("/dashboard/"):
        page.goto(page.url.removesuffix("dashboard/") + "queue/")
