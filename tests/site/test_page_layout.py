"""Every kind of page, looked at in headless Chromium at desktop and phone widths, and printed.

Checks what a reader would notice: the page never scrolls sideways (wide tables and figures scroll inside their
own box), figures are shown at their natural size on a desktop instead of shrunk, and a printed model card has no
navigation and keeps its tables whole. Screenshots and the printed PDF go to tests/_artifacts/screenshots/ (kept by
CI) for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from test_browser import ARGS, CHROMIUM, SCREENSHOTS

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs /usr/bin/chromium (apt-get install chromium)"),
]

VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


def _page_kinds(site: Path) -> dict[str, Path]:
    generated = site / "generated"
    audits = sorted((generated / "audits").rglob("*.html"))
    kinds = {
        "home": site / "index.html",
        "register": generated / "index.html",
        "model": generated / "models" / "credit-risk.html",
        "audit": next(path for path in audits if "credit-risk" in str(path)),
        "ll144": next(iter(sorted((generated / "ll144").glob("*.html")))),
        "checklists": generated / "checklists" / "index.html",
        "framework": generated / "checklists" / "framework-eu-ai-act.html",
        "policies": next(iter(sorted((generated / "policies").glob("*.html")))),
    }
    missing = [kind for kind, path in kinds.items() if not path.is_file()]
    assert not missing, f"the demo site has no page of kind {missing}"
    return kinds


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    playwright_api = pytest.importorskip("playwright.sync_api", reason="needs the playwright package")
    with playwright_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield launched
        launched.close()


@pytest.mark.parametrize("width", sorted(VIEWPORTS))
def test_no_page_scrolls_sideways_and_figures_keep_their_size(
    chromium: object, built_demo: Path, width: str
) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    context = chromium.new_context(viewport=VIEWPORTS[width])  # type: ignore[attr-defined]
    page = context.new_page()
    overflowing, shrunk = [], []
    for kind, path in _page_kinds(built_demo / "site").items():
        page.goto(path.as_uri())
        page.wait_for_load_state()
        page.screenshot(path=str(SCREENSHOTS / f"layout-{width}-{kind}.png"), full_page=True)
        extra = page.evaluate("() => document.documentElement.scrollWidth - window.innerWidth")
        if extra > 1:
            overflowing.append(f"{kind} ({extra}px)")
        for image in page.locator("article img").all():
            image.scroll_into_view_if_needed()
            ratio = image.evaluate(
                "img => img.naturalWidth ? img.getBoundingClientRect().width / img.naturalWidth : 1"
            )
            if ratio < 0.95:
                shrunk.append(f"{kind}: {image.get_attribute('src')} at {ratio:.2f}")
    context.close()
    assert not overflowing, f"pages wider than the {width} screen: {overflowing}"
    assert not shrunk, f"figures shrunk below their natural size: {shrunk}"


def test_printed_model_card_has_no_navigation_and_whole_tables(chromium: object, built_demo: Path) -> None:
    context = chromium.new_context(viewport=VIEWPORTS["desktop"])  # type: ignore[attr-defined]
    page = context.new_page()
    page.goto(_page_kinds(built_demo / "site")["model"].as_uri())
    page.wait_for_load_state()
    page.emulate_media(media="print")
    hidden = page.evaluate(
        "() => ['.md-header', '.md-sidebar--primary', '.md-footer'].map(s => document.querySelector(s))"
        ".filter(e => e && getComputedStyle(e).display !== 'none').map(e => e.className)"
    )
    assert hidden == [], f"navigation printed: {hidden}"
    rules = page.evaluate(
        "() => [...document.querySelectorAll('article table')].map(t => getComputedStyle(t).breakInside)"
    )
    assert rules and all(rule == "avoid" for rule in rules), rules
    clipped = page.evaluate(
        "() => [...document.querySelectorAll('.md-typeset__scrollwrap')].filter(e => getComputedStyle(e).overflowX !== 'visible').length"
    )
    assert clipped == 0, "a wide table would be cut at the page edge"
    page.pdf(path=str(SCREENSHOTS / "print-model-card.pdf"), format="A4")
    context.close()
