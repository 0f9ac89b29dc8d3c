"""What issues 18 and 19 added, in the web app: a high-risk case first with its badge, its
alert acknowledged, its risk and language corrected; managers' templates (preview, save,
conflict) and safeguarding terms; claim, call back, close, reopen and transfer on the case page.
A module of its own: a fresh demo table where every practitioner starts off duty."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import UTC, datetime
from xml.etree import ElementTree

from playwright.sync_api import expect

from scripts.sms import post_signed, twilio_sms_form
from tests.browser.conftest import sign_in
from tests.browser.test_web_app import text_in
from tests.conftest import AUTH_TOKEN, bearer
from tests.twilio_fakes import new_sid

CRISIS = "jeg har samlet piller og vil tage dem alle i aften"
# A manager's pattern shaped like markup: matched, it is a reason shown on the case, as text.
MARKUP_PATTERN = "skroebelig|<img src=x onerror=document.title='owned'>"


def api(base: str, method: str, path: str, body: object, user: str, role: str) -> dict:
    request = urllib.request.Request(
        base + path,
        data=json.dumps(body).encode(),
        method=method,
        headers={"Content-Type": "application/json", **bearer(user, role)},
    )
    with urllib.request.urlopen(request) as answer:
        return json.loads(answer.read())


def test_a_high_risk_sms_is_first_with_its_badge_and_its_alert_is_acknowledged(stack, page):
    sign_in(page, stack, "p-anna")  # a safeguarding practitioner: high risk is offered to her
    page.get_by_role("button", name="On duty").click()
    expect(page.get_by_role("button", name="On duty")).to_have_attribute("aria-pressed", "true")
    text_in(stack, "+4520002001", CRISIS)
    text_in(stack, "+4520002002", "Hvordan søger jeg ind på HF?")  # newer, and harmless
    expect(page.get_by_role("link", name="Hvordan søger jeg ind på HF?")).to_be_visible()
    first = page.locator(".cases li").first
    expect(first).to_contain_text(CRISIS)
    expect(first.locator(".badge.risk-high")).to_have_text("⚠ High risk")  # words, not colour
    expect(page.locator(".cases li").nth(1).locator(".badge.risk-high")).to_have_count(0)
    first.get_by_role("link").click()
    panel = page.get_by_role("region", name="Safeguarding: High risk")
    expect(panel).to_contain_text("Matched: piller, i aften")
    expect(panel.get_by_role("status")).to_contain_text("Alert raised: not acknowledged yet")
    panel.get_by_role("button", name="Acknowledge alert").click()
    expect(panel.get_by_role("status")).to_contain_text("Alert acknowledged by p-anna")
    expect(panel.get_by_role("button", name="Acknowledge alert")).to_have_count(0)
    # lowering it takes a reason: without one the browser does not send it
    panel.get_by_label("New risk level").select_option("elevated")
    panel.get_by_role("button", name="Change risk").click()
    expect(page.get_by_role("region", name="Safeguarding: High risk")).to_be_visible()
    panel.get_by_label("Reason (required)").fill("Talt med hende: hun er hos sin mor i aften")
    panel.get_by_role("button", name="Change risk").click()
    lowered = page.get_by_role("region", name="Safeguarding: Elevated risk")
    expect(lowered).to_contain_text("Assessed by: p-anna")
    expect(lowered).to_contain_text("Talt med hende: hun er hos sin mor i aften")
    # the case's language, corrected: the timeline says who changed it
    page.locator("main").get_by_label("Language").select_option("en")
    expect(page.locator(".timeline")).to_contain_text("Language: da -> en")
    expect(page.locator(".cases li").first.get_by_text("EN", exact=True)).to_be_visible()


def test_a_lowering_over_a_message_she_did_not_read_is_refused_and_shows_it(stack, page):
    """The citizen writes again while the practitioner submits her lowering: the server
    refuses it (409 unseen_messages), the panel says so and shows the new message; lowering
    again, now that she has read it, goes through."""
    sign_in(page, stack, "p-anna")
    first = "jeg har samlet piller i aften, alle sammen"
    text_in(stack, "+4520002011", first)
    page.get_by_role("link", name=first).click()
    panel = page.get_by_role("region", name="Safeguarding: High risk")
    expect(panel).to_be_visible()
    worse = "jeg har taget dem nu"
    landed: list[str] = []

    def meanwhile(route) -> None:  # the message lands after her screen's newest event
        if route.request.method == "PUT" and not landed:
            text_in(stack, "+4520002011", worse)
            landed.append(worse)
        route.continue_()

    page.route("**/cases/*/risk", meanwhile)
    panel.get_by_label("New risk level").select_option("none")
    panel.get_by_label("Reason (required)").fill("Sangtekst fra musiktimen")
    panel.get_by_role("button", name="Change risk").click()
    expect(panel).to_contain_text("The citizen wrote after what you read")
    expect(panel.get_by_role("list", name="New messages from the citizen")).to_contain_text(worse)
    expect(page.locator(".timeline")).to_contain_text(worse)
    expect(page.get_by_role("region", name="Safeguarding: High risk")).to_be_visible()
    panel.get_by_label("Reason (required)").fill("Talt med hende: en sangtekst")
    panel.get_by_role("button", name="Change risk").click()
    expect(page.get_by_role("region", name="Safeguarding: No risk flagged")).to_be_visible()


def test_a_managers_markup_shaped_term_flags_a_case_and_shows_only_as_text(stack, page):
    sign_in(page, stack, "boss")
    page.get_by_role("link", name="Safeguarding terms").click()
    expect(page.get_by_role("heading", name="Safeguarding terms")).to_be_visible()
    page.get_by_role("button", name="Add term").click()
    row = page.locator("tbody tr").first
    row.get_by_role("combobox").first.select_option("pattern")
    row.get_by_role("textbox").fill("(a+)+")
    row.get_by_role("spinbutton").fill("9")
    page.get_by_role("button", name="Save terms").click()
    expect(page.get_by_role("alert")).to_contain_text("backtrack")  # 400 invalid_terms, said
    row.get_by_role("textbox").fill(MARKUP_PATTERN)
    api(stack, "PUT", "/safeguarding/terms", _terms_now(stack), "boss2", "manager")
    page.get_by_role("button", name="Save terms").click()  # over a colleague's save: 409
    expect(page.get_by_role("alert")).to_have_text(
        "Someone else saved the terms meanwhile: reload to see their version."
    )
    page.get_by_role("button", name="Reload").click()
    expect(page.get_by_text("Version 1 · boss2")).to_be_visible()
    page.get_by_role("button", name="Add term").click()
    row.get_by_role("combobox").first.select_option("pattern")
    row.get_by_role("textbox").fill(MARKUP_PATTERN)
    row.get_by_role("spinbutton").fill("9")
    page.get_by_role("button", name="Save terms").click()
    expect(page.get_by_role("status")).to_have_text(
        "Saved: new messages are assessed with this list."
    )
    text_in(stack, "+4520002003", "Jeg føler mig så skrøbelig")
    page.get_by_role("link", name="Inbox").click()
    page.get_by_role("link", name="Jeg føler mig så skrøbelig").click()
    expect(page.get_by_role("region", name="Safeguarding: High risk")).to_contain_text(
        f"Matched: /{MARKUP_PATTERN}/"
    )
    assert page.locator("main img").count() == 0
    assert page.title() != "owned"


def _terms_now(base: str) -> dict:
    request = urllib.request.Request(
        base + "/safeguarding/terms", headers=bearer("boss2", "manager")
    )
    with urllib.request.urlopen(request) as answer:
        terms = json.loads(answer.read())
    return {"version": terms["version"], "terms": terms["terms"][1:]}


def test_a_manager_edits_an_sms_template_and_the_next_citizen_gets_it(stack, page):
    with urllib.request.urlopen(stack + "/hours") as answer:
        key = "sms.ack_open" if json.loads(answer.read())["open_now"] else "sms.ack_closed"
    sign_in(page, stack, "boss")
    page.get_by_role("link", name="Templates").click()
    main = page.locator("main")
    main.get_by_label("Citizens' language").select_option("da")
    main.get_by_label("Template", exact=True).select_option(key)
    expect(page.get_by_role("heading", name=key)).to_be_visible()
    expect(main.get_by_text("Version 0 · the shipped default")).to_be_visible()
    wording = (
        "Hej! Tak for din besked til {service_name} 😊 En vejleder svarer dig her i løbet af dagen."
    )
    main.get_by_label("Current text").fill(wording)
    preview = page.get_by_role("region", name="Preview")
    expect(preview).to_contain_text("til Vejledningen 😊 En vejleder")  # the sample filled in
    expect(preview).to_contain_text("Encoding: UCS-2")  # the emoji: 70 a message, 67 a part
    expect(preview).to_contain_text("SMS parts: 2 · sent as several parts")
    main.get_by_role("button", name="Save template").click()
    expect(main.get_by_text("Version 1 · boss")).to_be_visible()
    status, twiml = post_signed(
        stack + "/webhooks/twilio/sms",
        twilio_sms_form("+4520002004", "Hej, hvornår åbner I?", new_sid()),
        AUTH_TOKEN,
    )
    assert status == 200
    [message] = ElementTree.fromstring(twiml).findall("Message")
    assert message.text == wording.replace("{service_name}", "Vejledningen")
    # a colleague saves the same template meanwhile: this save is refused and said so
    main.get_by_label("Current text").fill("Hej fra {service_name}!")
    api(
        stack,
        "PUT",
        f"/templates/da/{key}",
        {"text": "Hej igen fra {service_name}."},
        "boss2",
        "manager",
    )
    main.get_by_role("button", name="Save template").click()
    expect(page.get_by_role("alert")).to_have_text(
        "Someone else saved this meanwhile: reload to see their version."
    )
    main.get_by_role("button", name="Reload").click()
    expect(main.get_by_label("Current text")).to_have_value("Hej igen fra {service_name}.")
    main.get_by_text("Version history").click()
    expect(main.locator(".versions li")).to_have_count(2)
    expect(main.locator(".versions li").first).to_contain_text("Version 2 · boss2")


def test_claim_call_back_close_reopen_and_transfer_from_the_case_page(stack, page, demo_store):
    api(stack, "PUT", "/practitioners/me/status", {"on_duty": False}, "p-anna", "practitioner")
    text_in(stack, "+4520002005", "Kan I ringe mig op om erhvervsuddannelser?")
    sign_in(page, stack, "p-jonas")  # off duty: the case waits in his queue
    page.get_by_role("link", name="Kan I ringe mig op om erhvervsuddannelser?").click()
    facts = page.locator(".facts")
    expect(facts).to_contain_text("queued")
    page.get_by_role("button", name="Claim").click()
    expect(facts).to_contain_text("p-jonas")
    case_id = page.url.rsplit("/", 1)[1]
    demo_store.request_callback(case_id, "+4520002005", datetime.now(UTC))  # the phone menu's
    page.get_by_role("button", name="Call back").click()
    expect(
        page.locator(".timeline .entry.out", has=page.locator(".badge", has_text="Call"))
    ).to_be_visible()
    expect(page.get_by_role("button", name="Call back")).to_have_count(0)
    page.get_by_role("button", name="Close case (c)").click()
    page.get_by_role("dialog", name="Close case").get_by_role(
        "button", name="Close the case"
    ).click()
    expect(facts).to_contain_text("closed")
    page.get_by_role("button", name="Reopen").click()
    expect(facts).not_to_contain_text("closed")
    page.get_by_label("Transfer to (queue name or practitioner id)").fill("careers")
    page.get_by_role("button", name="Transfer", exact=True).click()
    expect(facts).to_contain_text(re.compile(r"Queue\s*careers"))
