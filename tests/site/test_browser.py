"""The built site in headless Chromium: navigation to an audit, figures load, offline search, no outside request.

Runs over http on 127.0.0.1 and from file://. Screenshots go to tests/_artifacts/screenshots/ for a person
to look at. Chromium comes from Debian (`apt-get install chromium`); Playwright only drives it.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse

import pytest

from governance.site.serve import make_server

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = Path(__file__).resolve().parents[1] / "_artifacts" / "screenshots"
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    playwright_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def http_root(built_demo: Path) -> Iterator[str]:
    server = make_server(built_demo / "site", port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def _walk(browser: object, start: str, label: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    page = context.new_page()
    requests: list[str] = []
    dialogs: list[str] = []
    page.on("request", lambda request: requests.append(request.url))
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))

    page.goto(start + "index.html")
    page.screenshot(path=str(SCREENSHOTS / f"{label}-1-home.png"), full_page=True)

    # Follow the navigation: Register -> the model -> its latest audit (the "Last verdict" link).
    page.locator("nav.md-nav--primary a[href$='generated/index.html']").first.click()
    page.wait_for_load_state()
    assert "Model register" in page.locator("h1").first.inner_text()
    page.screenshot(path=str(SCREENSHOTS / f"{label}-2-register.png"), full_page=True)
    page.locator("article a", has_text="credit-risk").first.click()
    page.wait_for_load_state()
    assert "Model card" in page.locator("h1").first.inner_text()
    page.screenshot(path=str(SCREENSHOTS / f"{label}-3-model.png"), full_page=True)
    page.locator("article a", has_text="Passed").first.click()
    page.wait_for_load_state()
    assert page.locator("h1").first.inner_text().startswith("Audit of credit-risk")
    images = page.locator("article img")
    assert images.count() >= 1
    for index in range(images.count()):
        image = images.nth(index)
        image.scroll_into_view_if_needed()
        assert image.evaluate("img => img.complete && img.naturalWidth > 0"), image.get_attribute("src")
    page.screenshot(path=str(SCREENSHOTS / f"{label}-4-audit.png"), full_page=True)

    # Offline search finds a model.
    page.locator("input.md-search__input").click()
    page.keyboard.type("hiring", delay=20)  # the theme searches on key events, not on fill()
    result = page.locator(".md-search-result__item", has_text="Model card: hiring-screen")
    result.first.wait_for(timeout=10_000)
    page.screenshot(path=str(SCREENSHOTS / f"{label}-5-search.png"))

    # The hostile model's pages run no script.
    page.goto(start + "generated/models/script-alert-1-script.html")
    page.wait_for_load_state()
    assert "<script>alert(1)</script>" in page.locator("h1").first.inner_text()
    page.screenshot(path=str(SCREENSHOTS / f"{label}-6-hostile.png"), full_page=True)
    context.close()

    assert dialogs == [], f"a script ran: {dialogs}"
    start_scheme = urlparse(start).scheme
    outside = [
        url
        for url in requests
        if not (
            (start_scheme == "file" and url.startswith("file://"))
            or urlparse(url).hostname == "127.0.0.1"
            or url.startswith(("data:", "blob:", "about:"))
        )
    ]
    assert outside == [], f"requests to other hosts: {outside}"


def test_site_over_http(browser: object, http_root: str) -> None:
    _walk(browser, http_root, "http")


def test_site_from_file(browser: object, built_demo: Path) -> None:
    _walk(browser, (built_demo / "site").as_uri() + "/", "file")
