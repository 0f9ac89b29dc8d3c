"""The citizen's chat in Chromium, against the real local server and DynamoDB Local (the demo
table, one for the module): a citizen writes in the widget a service embeds, a practitioner signed
in to the web app sees it in the inbox and answers it there, the answer shows within 3 s; each
sees the other typing; "Leave quickly" leaves nothing in the browser. Out of hours the citizen
may give an SMS number with consent, and the practitioner's answer goes there."""

from __future__ import annotations

import http.server
import json
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.browser.conftest import sign_in
from tests.conftest import bearer

playwright = pytest.importorskip("playwright.sync_api")
expect = playwright.expect

NEUTRAL = "https://neutral.example/"  # the embedding page's choice (the widget's data-exit)
PAGE_EXIT = "https://www.dr.dk/"  # the standalone page's, fixed when it is published
BOSS = bearer("boss", "manager")


@pytest.fixture
def service_page(stack) -> Iterator[str]:
    """A service's own page on another origin, embedding the widget with its one script tag. It
    is served from the loopback address too: Chromium's Private Network Access keeps a public
    page from loading scripts from 127.0.0.1 (deployed, both are public)."""
    page = (
        f'<!doctype html><h1>Guidance</h1><script type="module" src="{stack}/chat/widget.js" '
        f'data-lang="en" data-exit="{NEUTRAL}"></script>'
    ).encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/guidance"
    httpd.shutdown()


@pytest.fixture
def browser_context(browser) -> Iterator[Any]:
    """The citizen's own browser context (nothing shared with the practitioner's); the neutral
    exit sites answered locally."""
    context = browser.new_context()
    for site in (NEUTRAL, PAGE_EXIT):
        context.route(
            site + "**",
            lambda route: route.fulfill(body="<p>Weather</p>", content_type="text/html"),
        )
    yield context
    context.close()


def api(base: str, method: str, path: str, body: Any = None) -> Any:
    request = urllib.request.Request(
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={**BOSS, "Content-Type": "application/json"},
        method=method,
    )
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read() or b"null")


@pytest.fixture
def closed_today(stack) -> Iterator[None]:
    """Out of hours whenever the test runs: today and tomorrow closed (there is a next opening,
    so the chat says when and offers a follow-up); the published hours back afterwards."""
    hours = api(stack, "GET", "/hours")["hours"]
    today = datetime.now(UTC).astimezone(ZoneInfo(hours["timezone"])).date()
    days = [str(today + timedelta(days=n)) for n in range(2)]
    closed = sorted(set(hours.get("closed_dates", [])) | set(days))
    api(stack, "PUT", "/hours", {**hours, "closed_dates": closed})
    yield
    api(stack, "PUT", "/hours", hours)


@pytest.fixture
def open_all_day(stack) -> Iterator[None]:
    """In hours whenever the test runs: every day open round the clock, no closed dates; the
    published hours back afterwards."""
    hours = api(stack, "GET", "/hours")["hours"]
    days = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    always = {"timezone": hours["timezone"], "weekly": {d: [["00:00", "24:00"]] for d in days}}
    api(stack, "PUT", "/hours", always)
    yield
    api(stack, "PUT", "/hours", hours)


def test_in_hours_the_chat_neither_says_it_is_closed_nor_offers_an_answer_elsewhere(
    stack, open_all_day, browser_context
):
    citizen = browser_context.new_page()
    citizen.goto(stack + "/chat/")
    citizen.locator("#body").fill("Hi, which school fits me?")
    citizen.locator("#send").click()
    citizen.locator("li.service").wait_for()  # the service's answer: we are here
    expect(citizen.locator("#follow-up")).to_be_hidden()
    expect(citizen.locator("#notice")).to_be_hidden()
    expect(citizen.get_by_role("button", name="Answer me there")).to_have_count(0)


def test_a_citizen_chats_in_the_widget_and_a_practitioner_answers_in_the_web_app(
    stack, service_page, browser_context, page
):
    citizen = browser_context.new_page()
    citizen.goto(service_page)
    citizen.locator("#eg-chat-widget button.open").click()
    chat = citizen.frame_locator("#eg-chat-widget iframe")
    expect(chat.locator("#leave")).to_have_text("Leave quickly")
    chat.locator("#body").fill("<b>Hi</b>, can I study abroad?")
    chat.locator("#send").click()
    chat.locator("li.citizen").wait_for()
    assert chat.locator("li.citizen").inner_text() == "<b>Hi</b>, can I study abroad?"  # as text

    sign_in(page, stack, "p-anna")  # the practitioner, in a context of her own
    page.get_by_label("Channel").select_option(label="Chat")
    entry = page.get_by_role("link", name="<b>Hi</b>, can I study abroad?")
    expect(entry).to_be_visible(timeout=5000)
    expect(entry.locator(".badge", has_text="Chat")).to_be_visible()  # the channel in words
    entry.click()
    expect(page.locator(".facts")).to_contain_text("ChannelChat")
    assert page.locator(".timeline b").count() == 0

    chat.locator("#body").press_sequentially("Also")  # the citizen writes on...
    expect(page.get_by_text("The citizen is typing…")).to_be_visible(timeout=5000)
    composer = page.get_by_label("Reply to the citizen by Chat")
    composer.fill("Yes! <i>Let us</i> look at it together.")  # ...and sees her write
    expect(chat.locator("#typing")).to_have_text("The counsellor is typing ...", timeout=3000)

    began = time.monotonic()
    page.get_by_role("button", name="Send").click()
    chat.locator("li.practitioner").wait_for(timeout=3000)
    assert time.monotonic() - began < 3.0
    assert chat.locator("li.practitioner").inner_text() == "Yes! <i>Let us</i> look at it together."
    assert chat.locator("li.practitioner i").count() == 0
    expect(page.locator(".timeline .entry.out", has_text="Let us")).to_be_visible()

    chat.locator("#leave").click()
    citizen.wait_for_url(NEUTRAL)
    state = browser_context.storage_state()
    assert state["cookies"] == [] and all(not o["localStorage"] for o in state["origins"])
    assert citizen.evaluate("sessionStorage.length + localStorage.length") == 0


def test_out_of_hours_a_citizen_gives_an_sms_number_and_the_answer_goes_there_by_sms(
    stack, closed_today, browser_context, page
):
    citizen = browser_context.new_page()
    citizen.goto(f"{stack}/chat/?lang=en")
    citizen.locator("#body").fill("Can you text me tomorrow about vocational school?")
    citizen.locator("#send").click()
    expect(citizen.locator("#notice")).to_be_visible()  # when we open
    offer = citizen.locator("#follow-up")
    expect(offer).to_be_visible()
    offer.locator("#address").fill("+4520001299")
    offer.locator("#follow-up-send").click()
    expect(offer.locator("#consent")).to_be_visible()  # without consent the form is not sent
    offer.locator("#consent").check()
    offer.locator("#follow-up-send").click()
    expect(offer).to_have_text("Thank you. We will answer you there when we open.")

    sign_in(page, stack, "p-anna")
    page.get_by_role("link", name="Can you text me tomorrow").click()
    expect(page.locator(".facts")).to_contain_text("Replies go toSMS: +4520001299")
    expect(page.locator(".timeline")).to_contain_text("agreed to be answered by SMS")
    page.get_by_label("Reply to the citizen by SMS").fill("Hi! Yes, we will text you at 10.")
    page.get_by_role("button", name="Send").click()
    sent = page.locator(".timeline .entry.out", has_text="we will text you at 10")
    expect(sent).to_be_visible()
    expect(sent.locator(".badge")).to_have_text("SMS")


def test_leave_quickly_ends_the_chat_and_leaves_no_history_or_storage(stack, browser_context):
    page = browser_context.new_page()
    page.goto(f"{stack}/chat/?lang=da&exit=https://evil.example/")  # a link cannot choose it
    playwright.expect(page.locator("#leave")).to_have_text("Forlad hurtigt")
    page.locator("#body").fill("Jeg har det svært")
    page.locator("#send").click()
    page.locator("li.citizen").wait_for()
    token = page.evaluate("JSON.parse(sessionStorage.getItem('eg-chat')).token")
    assert len(token) >= 43
    entries = page.evaluate("history.length")

    page.locator("#leave").click()
    page.wait_for_url(PAGE_EXIT)
    assert page.evaluate("history.length") == entries  # replaced, not added to
    page.go_back()
    assert "/chat" not in page.url  # Back does not return to the chat
    page.goto(f"{stack}/chat/")  # the same tab and origin: its sessionStorage would be here
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0
    assert page.locator("li").count() == 0
    gone = urllib.request.Request(f"{stack}/chat/conversations/{token}/messages?wait=0")
    with pytest.raises(urllib.error.HTTPError) as ended:
        urllib.request.urlopen(gone)
    assert ended.value.code == 404


def test_after_the_case_is_closed_the_citizen_rates_it_on_a_card_and_the_case_shows_it(
    stack, browser_context, page
):
    citizen = browser_context.new_page()
    citizen.goto(f"{stack}/chat/?lang=en")
    citizen.locator("#body").fill("Where can I train to be a chef?")
    citizen.locator("#send").click()
    citizen.locator("li.citizen").wait_for()

    sign_in(page, stack, "p-anna")
    page.get_by_role("link", name="Where can I train to be a chef?").click()
    page.get_by_label("Reply to the citizen by Chat").fill("At a vocational school (EUD).")
    page.get_by_role("button", name="Send").click()
    expect(citizen.locator("li.practitioner")).to_have_text("At a vocational school (EUD).")
    page.get_by_role("button", name="Close case (c)").click()
    dialog = page.get_by_role("dialog", name="Close case")
    dialog.get_by_label("Outcome").select_option("answered")
    dialog.get_by_role("button", name="Close the case").click()

    card = citizen.locator("form.survey")
    expect(card).to_be_visible(timeout=5000)
    expect(citizen.locator("li.service", has=card)).to_contain_text("How did we do?")
    send = card.get_by_role("button", name="Send")
    expect(send).to_be_disabled()  # a rating first
    card.get_by_role("button", name="4", exact=True).click()
    card.get_by_label("Anything you want to add? (optional)").fill("Quick <b>answer</b>")
    send.click()
    expect(citizen.locator(".survey-thanks")).to_have_text("Thank you for your answer.")
    expect(card).to_have_count(0)

    page.reload()
    expect(page.locator(".timeline")).to_contain_text("Rated 4 of 5: Quick <b>answer</b>")
