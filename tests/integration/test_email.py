"""Email end to end: the relay endpoint as a mail relay posts, threading, acknowledgements,
replies that thread, bounces; against DynamoDB Local."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from chalicelib.domain.model import Identity
from tests.conftest import MAIL_DOMAIN, Requests, bearer, relay, seen

CORPUS = Path(__file__).resolve().parents[1] / "email_corpus"
PATH = "/webhooks/email/inbound"
ANNA = bearer("anna", "practitioner")
BOSS = bearer("boss", "manager")


def email(
    sender="sofie@example.com",
    to=f"studyhelp@{MAIL_DOMAIN}",
    subject="Question",
    body="Hi, I need help.",
    mid="<q1@example.com>",
    extra="",
) -> bytes:
    lines = [
        f"From: Sofie <{sender}>",
        f"To: {to}",
        f"Subject: {subject}",
        "Date: Tue, 24 Nov 2026 10:00:00 +0100",
    ]
    if mid:
        lines.append(f"Message-ID: {mid}")
    if extra:
        lines.append(extra)
    return ("\r\n".join(lines) + "\r\n\r\n" + body + "\r\n").encode()


def case_of(store, address="sofie@example.com"):
    record = store.find_identity(Identity("email", address))
    return store.get_case(record.open_case_id, with_timeline=True)


def items(store):
    """Everything stored but the test's own practitioner."""
    found = store.client.scan(TableName=store.table)["Items"]
    return [i for i in found if i["type"]["S"] != "practitioner"]


def test_a_relayed_email_opens_a_case_and_is_acknowledged_once(api, local_services, outbox):
    answer = relay(api, email())
    assert answer.status_code == 201
    case = case_of(local_services.store)
    assert case.queue == "education" and case.channels == ("email",)
    inbound, ack = case.timeline
    assert inbound.body == "Hi, I need help." and inbound.email.subject == "Question"
    assert (ack.direction, ack.automated, ack.status) == ("out", True, "sent")
    sent = outbox.last()
    assert sent["To"] == "sofie@example.com" and sent["In-Reply-To"] == "<q1@example.com>"
    assert sent["Reply-To"] == f"studyhelp+{case.reply_token}@{MAIL_DOMAIN}"
    assert sent["Auto-Submitted"] == "auto-replied"
    assert "counsellor will answer you" in sent.get_body(("plain",)).get_content()
    relay(api, email(mid="<q2@example.com>", body="One more thing"))
    assert len(outbox.sent) == 1  # acknowledged once per case
    assert [i.body for i in case_of(local_services.store).timeline if i.direction == "in"] == [
        "Hi, I need help.",
        "One more thing",
    ]


def test_out_of_hours_acknowledgement_names_the_next_opening(api, clock, outbox):
    clock.set_local(2026, 11, 27, 18, 0)  # Friday evening
    relay(api, email())
    text = outbox.last().get_body(("plain",)).get_content()
    assert "We are closed right now. We open again tomorrow at 10:00." in text


def test_the_same_message_twice_is_stored_once(api, local_services, outbox):
    assert relay(api, email()).status_code == 201
    again = relay(api, email())
    assert again.status_code == 200 and json.loads(again.body)["duplicate"] is True
    assert len(case_of(local_services.store).timeline) == 2 and len(outbox.sent) == 1


@pytest.mark.parametrize("change", ["secret", "stale", "missing"])
def test_an_unauthenticated_relay_post_is_refused_and_stores_nothing(
    api, local_services, outbox, change
):
    if change == "missing":
        answer = api.post(PATH, body=email(), headers={"Content-Type": "message/rfc822"})
    elif change == "stale":
        answer = relay(api, email(), at=time.time() - 301)
    else:
        answer = relay(api, email(), secret="guess")
    assert answer.status_code == 403
    assert items(local_services.store) == [] and outbox.sent == []


def test_an_oversized_message_is_refused_with_a_reason(api, local_services, outbox):
    answer = relay(api, email(body="x" * (10 * 1024 * 1024 + 10)))
    assert answer.status_code == 413
    assert "bytes" in json.loads(answer.body)["error"]["message"]
    assert items(local_services.store) == []


def test_another_address_on_the_reply_address_is_a_possible_link_until_confirmed(
    api, local_services, outbox
):
    relay(api, email())
    case = case_of(local_services.store)
    token_address = f"studyhelp+{case.reply_token}@{MAIL_DOMAIN}"
    relay(
        api,
        email(
            sender="sofie.work@example.net",
            to=token_address,
            mid="<w1@example.net>",
            subject="Re: Question",
            body="From my other address",
        ),
    )
    # the reply address alone proves nothing: its own case, marked, until a person confirms
    other = local_services.store.find_identity(Identity("email", "sofie.work@example.net"))
    assert other.contact_id != case.contact_id
    marked = case_of(local_services.store, "sofie.work@example.net")
    assert marked.possible_link == (case.id, "reply_address")
    assert api.post(f"/cases/{marked.id}/link", headers=ANNA).status_code == 200
    other = local_services.store.find_identity(Identity("email", "sofie.work@example.net"))
    assert other.contact_id == case.contact_id  # the new address became the contact's


def test_threading_by_in_reply_to_our_reply(api, local_services, outbox):
    """The citizen's answer to our reply threads; another address quoting it is only marked."""
    relay(api, email())
    case = case_of(local_services.store)
    answer = api.post(
        f"/cases/{case.id}/replies",
        body=json.dumps({"body": "Which subjects?", "seen": seen(case.id)}),
        headers={**ANNA, "Content-Type": "application/json"},
    )
    assert answer.status_code == 201
    reply = outbox.last()
    assert reply["In-Reply-To"] == "<q1@example.com>" and "<q1@example.com>" in reply["References"]
    assert reply["Subject"] == "Re: Question" and not reply["Auto-Submitted"]
    ours = reply["Message-ID"]
    relay(
        api,
        email(
            mid="<q9@example.com>",
            subject="Re: Question",
            body="Maths and physics",
            extra=f"In-Reply-To: {ours}\r\nReferences: {ours}",
        ),
    )
    assert [i.body for i in case_of(local_services.store).timeline][-1] == "Maths and physics"
    relay(
        api,
        email(
            sender="mum@example.org",
            mid="<m9@example.org>",
            subject="Re: Question",
            body="Her mother here",
            extra=f"In-Reply-To: {ours}\r\nReferences: {ours}",
        ),
    )
    assert [i.body for i in case_of(local_services.store).timeline][-1] == "Maths and physics"
    mum = case_of(local_services.store, "mum@example.org")
    assert mum.possible_link == (case.id, "in_reply_to") and mum.id != case.id


def test_a_later_email_and_a_threaded_reply_cost_one_read_and_one_write(
    api, local_services, outbox
):
    """Delivery, sender, reply address and Message-IDs in one BatchGetItem; intake plans on that
    identity instead of reading it again; the message and its case in one transaction."""
    relay(api, email())
    case = case_of(local_services.store)
    counted = Requests(local_services.store.client, settings=False)
    relay(api, email(mid="<q2@example.com>", body="One more thing"))
    assert counted.calls == ["BatchGetItem", "TransactWriteItems"]
    counted.calls.clear()
    to = f"studyhelp+{case.reply_token}@{MAIL_DOMAIN}"
    extra = "In-Reply-To: <q2@example.com>\r\nReferences: <q1@example.com> <q2@example.com>"
    relay(api, email(to=to, mid="<q3@example.com>", body="And another", extra=extra))
    assert counted.calls == ["BatchGetItem", "TransactWriteItems"]
    counted.calls.clear()
    relay(api, email(to=to, mid="<q3@example.com>", body="And another", extra=extra))
    assert counted.calls == ["BatchGetItem"]  # the relay's retry: answered from its record
    timeline = case_of(local_services.store).timeline
    assert [i.body for i in timeline if i.direction == "in"][1:] == [
        "One more thing",
        "And another",
    ]


def test_threading_by_sender_and_a_new_case_when_nothing_matches(api, local_services, outbox):
    relay(api, email())
    relay(api, email(mid="<q3@example.com>", subject="Another thing", body="No headers"))
    assert len([i for i in case_of(local_services.store).timeline if i.direction == "in"]) == 2
    relay(api, email(sender="new@example.com", mid="<n1@example.com>"))
    assert case_of(local_services.store, "new@example.com").id != case_of(local_services.store).id


@pytest.mark.parametrize(
    ("name", "flag"),
    [
        ("30-auto-submitted.eml", "auto_reply"),
        ("33-bounce-dsn.eml", "auto_reply"),
        ("45-ses-spam.eml", "quarantine"),
        ("37-no-from.eml", "needs_review"),
    ],
)
def test_noise_is_recorded_but_never_answered(api, local_services, outbox, name, flag):
    raw = (CORPUS / name).read_bytes()
    assert relay(api, raw).status_code == 201
    [case] = [i for i in items(local_services.store) if i["type"]["S"] == "case"]
    timeline = local_services.store.get_case(case["id"]["S"], with_timeline=True).timeline
    assert [i.direction for i in timeline] == ["in"] and outbox.sent == []
    assert getattr(timeline[0].email, flag)
    if flag == "quarantine":
        assert case["queue"]["S"] == "quarantine"
    raw_key = timeline[0].email.raw_key
    assert local_services.blobs.get(raw_key) == raw  # kept raw, whatever it was


def test_attachments_are_kept_as_blobs_not_in_dynamodb(api, local_services, outbox):
    raw = (CORPUS / "19-pdf-attachment.eml").read_bytes()
    relay(api, raw)
    [inbound] = [i for i in case_of(local_services.store).timeline if i.direction == "in"]
    [attachment] = inbound.email.attachments
    assert (attachment.filename, attachment.content_type) == ("cv.pdf", "application/pdf")
    assert local_services.blobs.get(attachment.key).startswith(b"%PDF-1.4")
    assert all(len(json.dumps(i)) < 20_000 for i in items(local_services.store))


def test_a_bounce_makes_the_address_undeliverable_and_replies_are_refused(
    api, local_services, outbox
):
    from chalice.test import Client

    import app as application

    relay(api, email())
    case = case_of(local_services.store)
    note = {
        "notificationType": "Bounce",
        "bounce": {
            "bounceType": "Permanent",
            "bouncedRecipients": [{"emailAddress": "Sofie@example.com"}],
        },
    }
    with Client(application.app) as client:
        event = client.events.generate_sns_event(
            message=json.dumps(note), subject="Amazon SES Email Event Notification"
        )
        client.lambda_.invoke("ses_notification", event)
    record = local_services.store.find_identity(Identity("email", "sofie@example.com"))
    assert record.undeliverable == "bounce"
    answer = api.post(
        f"/cases/{case.id}/replies",
        body=json.dumps({"body": "Hello?", "seen": seen(case.id)}),
        headers={**ANNA, "Content-Type": "application/json"},
    )
    assert answer.status_code == 409
    assert json.loads(answer.body)["error"]["code"] == "undeliverable"


def test_a_reply_to_a_closed_cases_address_opens_a_new_case(api, local_services, outbox):
    relay(api, email())
    case = case_of(local_services.store)
    closed = api.post(
        f"/cases/{case.id}/close",
        body=json.dumps({"outcome": "answered", "seen": case.timeline[-1].id}),
        headers={**bearer("boss", "manager"), "Content-Type": "application/json"},
    )
    assert closed.status_code == 200
    token_address = f"studyhelp+{case.reply_token}@{MAIL_DOMAIN}"
    relay(api, email(to=token_address, mid="<late@example.com>", body="Back again"))
    again = case_of(local_services.store)
    assert again.id != case.id and again.timeline[0].body == "Back again"


def test_a_practitioner_downloads_an_attachment_as_a_file_never_as_a_page(
    api, local_services, outbox
):
    raw = (CORPUS / "19-pdf-attachment.eml").read_bytes()
    relay(api, raw)
    case = case_of(local_services.store)
    shown = json.loads(api.get(f"/cases/{case.id}", headers=ANNA).body)
    [entry] = [e for e in shown["timeline"] if e["email"] and e["email"]["attachments"]]
    assert entry["email"]["attachments"] == [
        {
            "index": 0,
            "filename": "cv.pdf",
            "content_type": "application/pdf",
            "size": entry["email"]["attachments"][0]["size"],
        }
    ]
    path = f"/cases/{case.id}/emails/{entry['id']}/attachments/0"
    accept = {"Accept": "application/octet-stream"}
    answer = api.get(path, headers={**ANNA, **accept})
    assert answer.status_code == 200 and answer.body.startswith(b"%PDF-1.4")
    assert answer.headers["Content-Type"] == "application/octet-stream"
    assert answer.headers["Content-Disposition"] == 'attachment; filename="cv.pdf"'
    assert answer.headers["X-Content-Type-Options"] == "nosniff"
    reads = json.loads(api.get(f"/cases/{case.id}/reads", headers=BOSS).body)["reads"]
    assert [r["user_id"] for r in reads].count("anna") == 2  # the case, then the file
    outsider = bearer("omar", "practitioner")  # serves careers only
    assert api.get(path, headers={**outsider, **accept}).status_code in (403, 404)
    for other in ("1", "-1", "x", "00", "²", "9" * 30):
        wrong = f"/cases/{case.id}/emails/{entry['id']}/attachments/{other}"
        assert api.get(wrong, headers={**ANNA, **accept}).status_code == 404
    elsewhere = f"/cases/{case.id}/emails/nope/attachments/0"
    assert api.get(elsewhere, headers={**ANNA, **accept}).status_code == 404


def test_an_email_naming_itself_and_many_parents_is_recorded_once(api, local_services):
    """Every Message-ID a sender names goes into one batched read: naming its own Message-ID as
    its parent, the same one again and again, and 60 more, is still one message on one case
    (duplicate keys would make DynamoDB refuse the whole read), never a 500."""
    many = " ".join(f"<r{n}@example.com>" for n in range(60))
    me = "<self@example.com>"
    extra = f"In-Reply-To: {me}\r\nReferences: {me} {many} {me}"
    first = relay(api, email(mid="<self@example.com>", extra=extra))
    assert first.status_code == 201, first.body
    again = relay(api, email(mid="<self@example.com>", body="Second copy", extra=extra))
    assert again.status_code in (200, 201), again.body
    store = local_services.store
    case_id = store.find_identity(Identity("email", "sofie@example.com")).open_case_id
    inbound = [
        i for i in store.get_case(case_id, with_timeline=True).timeline if i.direction == "in"
    ]
    assert len(inbound) == 2  # two deliveries, each recorded; neither lost
