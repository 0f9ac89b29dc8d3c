"""`make screenshots`: the main pages at 1280x900 and on a 390x844 phone, saved under
docs/screenshots/ from a local stack with the eight weeks of demo history. Skipped unless
SCREENSHOTS names the directory (the suite never rewrites docs/)."""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.browser.test_safeguarding_and_wording import CRISIS
from tests.browser.test_web_app import HOSTILE, text_in

OUT = os.environ.get("SCREENSHOTS")
pytestmark = pytest.mark.skipif(not OUT, reason="set SCREENSHOTS=docs/screenshots to take them")
SIZES = {"wide": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}


@pytest.fixture(scope="module")
def history(stack, demo_store, dynamodb_local):
    """The demo's eight weeks, played into the stack's table (as `make run` does)."""
    from scripts.history import seed_history
    from tests.conftest import AUTH_DIR, make_services

    now = datetime.now(UTC)
    services = make_services(demo_store, lambda: now, dynamodb_local.endpoint)
    seed_history(services, now, AUTH_DIR)
    return stack


@pytest.mark.parametrize("size", list(SIZES))
def test_screenshots_of_the_main_pages(history, browser, size):
    out = Path(OUT or ".")
    out.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    shot = lambda name: page.screenshot(path=str(out / f"{name}-{size}.png"), full_page=False)  # noqa: E731
    page.goto(history + "/app/")
    page.get_by_label("Demo user").wait_for()
    shot("sign-in")
    sign_in(page, history, "p-anna")
    text_in(history, "+4520001097" if size == "wide" else "+4520001096", CRISIS)
    text_in(history, "+4520001099" if size == "wide" else "+4520001098", HOSTILE)
    entry = page.get_by_role("link", name="Hej, kan I hjælpe mig med SU?").first
    expect(entry).to_be_visible(timeout=5000)
    shot("inbox")
    page.get_by_role("link", name=CRISIS).first.click()
    expect(page.get_by_role("region", name="Safeguarding: High risk")).to_be_visible()
    shot("case-risk")
    page.goto(history + "/app/#/inbox")
    entry.click()
    expect(page.locator(".timeline .entry.in").first).to_be_visible()
    page.get_by_label("Reply to the citizen by SMS").fill("Hej! Ja, det kan vi hjælpe med.")
    shot("case")
    page.keyboard.press("Escape")
    page.locator("body").press("?")
    shot("shortcuts")
    context.close()
    context = browser.new_context(viewport=SIZES[size])
    page = context.new_page()
    sign_in(page, history, "boss")
    page.get_by_role("link", name="Weekly report").click()
    expect(page.get_by_role("row", name="Contacts in total")).to_be_visible()
    shot("report")
    page.get_by_role("link", name="Practitioners").click()
    expect(page.get_by_role("cell", name="Anna Holm")).to_be_visible()
    shot("practitioners")
    page.get_by_role("link", name="Templates").click()
    page.get_by_label("Template", exact=True).select_option("sms.ack_closed")
    page.get_by_label("Current text").fill(
        "Hej! Tak for din besked til {service_name} 😊 Vi har lukket nu, men åbner {next_opening}."
    )
    expect(page.get_by_text("SMS parts: 2")).to_be_visible()
    shot("templates")
    page.get_by_role("link", name="Safeguarding terms").click()
    expect(page.get_by_role("heading", name="Safeguarding terms")).to_be_visible()
    shot("terms")
    context.close()
