"""What practitioners and managers do in the web app, in a real browser against the local stack."""

from __future__ import annotations

import re
import time

from playwright.sync_api import expect

from scripts.sms import post_signed, twilio_sms_form
from tests.browser.conftest import sign_in
from tests.conftest import AUTH_TOKEN
from tests.twilio_fakes import new_sid

HOSTILE = "<img src=x onerror=\"document.title='owned'\"> Hej, kan I hjælpe mig med SU?"


def text_in(base: str, sender: str, body: str) -> None:
    status, _ = post_signed(
        base + "/webhooks/twilio/sms", twilio_sms_form(sender, body, new_sid()), AUTH_TOKEN
    )
    assert status == 200


def test_a_citizens_sms_appears_within_5_s_and_the_reply_shows_with_its_status(stack, page):
    sign_in(page, stack, "p-anna")
    expect(page.get_by_role("button", name="Off duty")).to_have_attribute("aria-pressed", "true")
    page.get_by_role("button", name="On duty").click()
    expect(page.get_by_role("button", name="On duty")).to_have_attribute("aria-pressed", "true")
    sent = time.monotonic()
    text_in(stack, "+4520001001", HOSTILE)
    entry = page.get_by_role("link", name="Hej, kan I hjælpe mig med SU?")
    expect(entry).to_be_visible(timeout=5000)
    assert time.monotonic() - sent < 5
    entry.click()
    timeline = page.locator(".timeline")
    # the citizen's text is shown as text: no element made of it, no script run
    expect(timeline.get_by_text(HOSTILE, exact=True)).to_be_visible()
    assert page.locator(".timeline img").count() == 0
    assert page.title() != "owned"
    page.get_by_label("Reply to the citizen by SMS").fill(
        "Hej! Ja, det kan vi. Hvad vil du gerne vide?"
    )
    page.get_by_role("button", name="Send").click()
    reply = timeline.locator(".entry.out", has_text="Hvad vil du gerne vide?")
    expect(reply).to_be_visible()
    expect(reply.locator(".status")).not_to_be_empty()


def test_a_manager_opens_last_weeks_report_and_downloads_the_csv(stack, page):
    sign_in(page, stack, "boss")
    page.get_by_role("link", name="Weekly report").click()
    heading = page.get_by_role("heading", level=1)
    expect(heading).to_contain_text("Weekly report 20")
    week = heading.inner_text().split()[2]
    expect(page.get_by_role("row", name="Contacts in total")).to_be_visible()
    expect(page.get_by_role("img", name="Contacts per day by channel")).to_be_visible()
    # issue 22: the headline figures with last week's and the change, each opening its cases
    headline = page.locator("table.headline")
    expect(headline.get_by_role("row", name="Satisfaction (1-5)")).to_be_visible()
    level = headline.get_by_role("row", name="Texts first answered within target")
    expect(level.get_by_role("cell").nth(2)).not_to_be_empty()  # the change from last week
    level.get_by_role("button", name="Show cases").click()
    expect(page.locator(".case-list h2")).to_contain_text("Texts first answered within target")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download CSV").click()
    assert download.value.suggested_filename == f"service-report-{week}.csv"
    content = open(download.value.path(), encoding="utf-8").read()
    assert content.startswith("metric,value\n")
    assert f"week,{week}\n" in content


def test_sign_in_waits_for_the_demo_users(stack, page):
    """Until the list of demo users has loaded there is nobody to sign in as: the button waits
    (pressed early, it once tried to sign in as nobody and said that sign-in failed)."""
    held = []

    def hold_the_list(route):
        if route.request.method == "GET":
            held.append(route)
        else:
            route.continue_()

    page.route("**/local/sign-in", hold_the_list)
    page.goto(stack + "/app/")
    button = page.get_by_role("button", name="Sign in")
    expect(button).to_be_disabled()
    expect(page.get_by_label("Demo user")).to_have_value("")
    assert len(held) == 1
    held[0].continue_()
    expect(button).to_be_enabled()
    button.click()
    page.get_by_role("heading", name="Inbox").wait_for()


def test_the_inbox_by_keyboard_alone(stack, page):
    text_in(stack, "+4520001002", "Første spørgsmål om gymnasiet")
    text_in(stack, "+4520001003", "Andet spørgsmål om erhvervsuddannelser")
    page.goto(stack + "/app/")
    # the demo users load after the form shows; until then there is nobody to sign in as (the
    # button is disabled: an Enter pressed earlier once signed in as nobody, and failed)
    expect(page.get_by_label("Demo user")).not_to_have_value("")
    for _ in range(3):  # the language, the demo user (Anna, the first), the button
        page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Sign in")).to_be_focused()
    page.keyboard.press("Enter")
    # as `sign_in` waits: the first sign-in of a session may take longer than expect's 5 s
    page.get_by_role("heading", name="Inbox").wait_for()
    expect(page.get_by_role("link", name="Første spørgsmål om gymnasiet")).to_be_visible(
        timeout=5000
    )
    page.locator("body").press("j")
    current = page.locator(".cases a[aria-current=page]")
    expect(current).to_have_count(1)
    chosen = current.get_attribute("id")
    page.keyboard.press("j")
    expect(current).not_to_have_id(chosen)
    expect(current).to_be_focused()
    page.keyboard.press("k")
    expect(current).to_have_id(chosen)
    expect(page.locator(".timeline .entry.in")).to_be_visible()  # the case has loaded
    page.keyboard.press("n")
    expect(page.get_by_label("Internal note (mention a colleague with @id) (n)")).to_be_focused()
    page.keyboard.type("Ring tilbage i morgen, @p-jonas")
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".timeline .entry.note mark")).to_have_text("@p-jonas")
    page.keyboard.press("Escape")
    page.keyboard.press("?")
    expect(page.get_by_role("dialog", name="Keyboard shortcuts")).to_be_visible()
    page.keyboard.press("Escape")
    expect(page.get_by_role("dialog")).to_have_count(0)
    page.keyboard.press("r")
    expect(page.get_by_label("Reply to the citizen by SMS (r)")).to_be_focused()
    page.keyboard.press("Escape")
    page.keyboard.press("c")
    dialog = page.get_by_role("dialog", name="Close case")
    expect(dialog).to_be_visible()
    expect(dialog.get_by_label("Outcome")).to_be_focused()
    page.keyboard.press("Tab")
    page.keyboard.press("Enter")
    expect(page.locator(".facts")).to_contain_text("closed")


def test_an_expired_session_leads_back_to_sign_in_and_keeps_the_draft(stack, page):
    text_in(stack, "+4520001004", "Hvornår er fristen for kvote 2?")
    page.clock.install()  # the page's clock, moved on below
    response = page.goto(stack + "/app/")
    assert "script-src 'self'" in response.headers["content-security-policy"]
    sign_in(page, stack, "p-anna")
    page.get_by_role("link", name="Hvornår er fristen for kvote 2?").click()
    page.get_by_label("Reply to the citizen by SMS").fill("Fristen er 15. marts kl. 12")
    page.clock.fast_forward("08:00:01")  # the token's lifetime is over
    expect(page.get_by_text("Your session ended")).to_be_visible(timeout=5000)
    assert "token" not in page.url and "eyJ" not in page.url
    page.get_by_label("Demo user").select_option("p-anna")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_label("Reply to the citizen by SMS")).to_have_value(
        "Fristen er 15. marts kl. 12"
    )


def test_a_manager_adds_a_practitioner_and_erasure_waits_for_a_typed_confirmation(stack, page):
    sign_in(page, stack, "boss")
    page.get_by_role("link", name="Practitioners").click()
    expect(page.get_by_role("row", name="p-anna")).to_contain_text("Anna Holm")
    form = page.locator("form", has=page.get_by_role("heading", name="Add practitioner"))
    form.get_by_label("User name", exact=True).fill("p-mette")
    form.get_by_label("Name", exact=True).fill("Mette <b>Lund</b>")
    form.get_by_role("button", name="Add practitioner").click()
    expect(page.get_by_role("row", name="p-mette")).to_contain_text("Mette <b>Lund</b>")
    page.get_by_role("link", name="Opening hours").click()
    expect(page.get_by_label("Monday")).to_have_value("09:00-21:00")
    page.get_by_role("link", name="Webinars").click()
    expect(page.get_by_role("button", name="Show bookings").first).to_be_visible()
    page.get_by_role("link", name="Contact data").click()
    page.get_by_label("Contact id", exact=True).fill("c-nobody")
    page.get_by_role("button", name="Erase").click()
    dialog = page.get_by_role("dialog", name="Erase")
    erase = dialog.get_by_role("button", name="Erase")
    expect(erase).to_be_disabled()
    dialog.get_by_label("Contact id again").fill("c-nobod")
    expect(erase).to_be_disabled()
    dialog.get_by_role("button", name="Close").click()
    expect(dialog).to_be_hidden()


def test_an_emails_attachment_downloads_from_the_timeline(stack, page):
    import json
    import time as clock
    import urllib.request
    from pathlib import Path

    from chalicelib.channels.email_relay import signature
    from tests.conftest import RELAY_SECRET

    raw = (Path(__file__).parents[1] / "email_corpus" / "19-pdf-attachment.eml").read_bytes()
    stamp = str(int(clock.time()))
    request = urllib.request.Request(
        stack + "/webhooks/email/inbound",
        data=raw,
        headers={
            "Content-Type": "message/rfc822",
            "X-Relay-Timestamp": stamp,
            "X-Relay-Signature": signature(RELAY_SECRET, stamp, raw),
        },
    )
    with urllib.request.urlopen(request) as answer:
        case_id = json.loads(answer.read())["case_id"]
    sign_in(page, stack, "boss")
    page.goto(f"{stack}/app/#/inbox/{case_id}")
    with page.expect_download() as download:
        page.get_by_role("button", name="Download attachment: cv.pdf").click()
    assert download.value.suggested_filename == "cv.pdf"
    assert open(download.value.path(), "rb").read().startswith(b"%PDF-1.4")


def test_the_user_chooses_danish_and_it_stays_chosen(stack, page):
    page.goto(stack + "/app/")
    page.get_by_label("Language").select_option("da")
    expect(page.get_by_role("heading", name="Log ind")).to_be_visible()
    page.reload()
    assert page.evaluate("document.documentElement.lang") == "da"
    page.get_by_label("Demobruger").select_option("p-anna")
    page.get_by_role("button", name="Log ind").click()
    expect(page.get_by_role("heading", name="Indbakke")).to_be_visible()
    expect(page.get_by_role("button", name="På vagt")).to_be_visible()


def test_a_voicemail_plays_in_the_timeline_fetched_with_the_token(stack, page, demo_store):
    """The <audio> plays a blob fetched with the bearer token (the CSP allows media from blob:
    only); Twilio is replaced by the route answering the recording (the local stack has none)."""
    from chalicelib.domain.model import Identity
    from tests.twilio_fakes import call_form, recording_form

    number, call = "+4520009911", new_sid("CA")
    voice = stack + "/webhooks/twilio/voice"
    assert post_signed(voice, call_form(number, call), AUTH_TOKEN)[0] == 200
    form = recording_form(number, call)
    assert post_signed(voice + "/recording", form, AUTH_TOKEN)[0] == 204
    asked: list[dict] = []

    def recording(route):
        asked.append(route.request.headers)
        route.fulfill(status=200, content_type="audio/mpeg", body=b"ID3\x04\x00" + b"\x00" * 64)

    page.route(f"**/recordings/{form['RecordingSid']}", recording)
    case_id = demo_store.find_identity(Identity("phone", number)).open_case_id
    sign_in(page, stack, "boss")
    page.goto(f"{stack}/app/#/inbox/{case_id}")
    page.get_by_role("button", name="Listen to the voicemail").click()
    player = page.locator("audio[controls]")
    expect(player).to_have_attribute("src", re.compile(r"^blob:"))
    assert [h.get("authorization", "").startswith("Bearer ") for h in asked] == [True]
