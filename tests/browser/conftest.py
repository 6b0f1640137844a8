"""Browser tests: Playwright drives Debian's Chromium against a live server, the Intercom emulator (over
HTTP, OAuth included) and a real Celery worker process.

Playwright's own browser download cannot work offline, so the session's browser is /usr/bin/chromium
(`apt-get install -y chromium`; .ci/run installs it on a fresh machine). Each test writes a screenshot of
every screen it passes to var/screenshots/<test>/ (gitignored) for a person to look at.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from config.celery import app as celery_app
from tests.factories import TEST_PASSWORD
from tests.fixtures.celery import WorkerProcess

# Playwright's sync API runs an event loop on the test's thread for the whole session; the tests (and the
# test database's set-up) still use the ORM between browser steps, which Django refuses by default when a
# loop is running on the thread. Nothing here is async: the check only sees Playwright's loop.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"
OAUTH_CLIENT = ("syncline-browser-tests", "browser-tests-secret")


def pytest_collection_modifyitems(items):
    for item in items:
        if "tests/browser/" in str(item.fspath).replace("\\", "/"):
            item.add_marker(pytest.mark.browser)


@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args):
    if not CHROMIUM.exists():
        pytest.fail("The browser tests need Chromium at /usr/bin/chromium: apt-get install -y chromium")
    return browser_type_launch_args | {
        "executable_path": str(CHROMIUM),
        "args": [
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    }


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    return browser_context_args | {"viewport": {"width": 1280, "height": 900}}


# Chromium reports every 4xx/5xx answer to a request on the console ("Failed to load resource: the server
# responded with a status of 422"); a form answered 422 with its errors is a designed answer, not a fault.
HTTP_STATUS_NOTE = re.compile(r"^Failed to load resource: the server responded with a status of 4\d\d\b")
# Reported on the console as well, so a violation fails the test even where Chromium's own message is quiet.
REPORT_CSP_VIOLATIONS = """
document.addEventListener("securitypolicyviolation", (e) => console.error(
  `CSP violation: ${e.violatedDirective} refused ${e.blockedURI || "inline code"} in ${e.sourceFile}:${e.lineNumber}`));
"""


@pytest.fixture
def page(page):
    """The page, failing its test on any console error, uncaught exception or Content-Security-Policy
    violation (the policy is on in the tests as in production)."""
    page.set_default_timeout(15_000)
    errors: list[str] = []
    page.add_init_script(REPORT_CSP_VIOLATIONS)
    page.on(
        "console",
        lambda m: errors.append(f"{m.text} ({m.location.get('url')})") if m.type == "error" else None,
    )
    page.on("pageerror", lambda error: errors.append(f"uncaught {error}"))
    yield page
    unexpected = [e for e in errors if not HTTP_STATUS_NOTE.match(e)]
    if unexpected:
        pytest.fail("The browser reported errors:\n" + "\n".join(unexpected), pytrace=False)


class Shots:
    """Numbered screenshots of one test: var/screenshots/<test>/01-<name>.png …"""

    def __init__(self, page, folder: Path):
        self.page, self.folder, self.count = page, folder, 0
        folder.mkdir(parents=True, exist_ok=True)
        for old in folder.glob("*.png"):
            old.unlink()

    def __call__(self, name: str) -> Path:
        self.count += 1
        path = self.folder / f"{self.count:02d}-{name}.png"
        self.page.screenshot(path=str(path), full_page=True)
        return path


@pytest.fixture
def shot(page, request):
    return Shots(page, SCREENSHOTS / re.sub(r"[^\w-]+", "_", request.node.name))


@pytest.fixture
def live_intercom(live_server, intercom_emulator, settings):
    """Syncline (the live server) pointed at the emulator, with an OAuth app the emulator knows."""
    client_id, secret = OAUTH_CLIENT
    settings.SITE_URL = live_server.url
    settings.INTERCOM_CLIENT_ID, settings.INTERCOM_CLIENT_SECRET = client_id, secret
    settings.INTERCOM_API_BASE_URLS = intercom_emulator.base_urls
    settings.INTERCOM_APP_BASE_URLS = intercom_emulator.base_urls
    intercom_emulator.add_oauth_client(
        client_id, secret, [f"{live_server.url}/connections/intercom/callback/"]
    )
    return intercom_emulator


@pytest.fixture
def run_worker(live_intercom, celery_queue, monkeypatch):
    """A real worker process on a queue of this test's own, reaching the emulator like the live server."""
    for region, base_url in live_intercom.base_urls.items():
        monkeypatch.setenv(f"INTERCOM_API_BASE_URL_{region}", base_url)
    default_queue, celery_app.conf.task_default_queue = celery_app.conf.task_default_queue, celery_queue
    worker = WorkerProcess(celery_queue).start()
    yield worker
    worker.stop()
    celery_app.conf.task_default_queue = default_queue


def log_in(page, live_server, user):
    page.goto(f"{live_server.url}/accounts/login/")
    page.locator("[name=login]").fill(user.email)
    page.locator("[name=password]").fill(TEST_PASSWORD)
    page.get_by_role("button", name="Log in", exact=True).click()
