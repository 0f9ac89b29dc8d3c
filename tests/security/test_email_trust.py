"""Email as an attacker sends it: forged threading headers, a case's reply address, a reused
Message-ID, a spoofed From that fails DMARC, header values that break outgoing mail."""

from __future__ import annotations

import json

import pytest

from chalicelib.domain.model import Identity
from tests.conftest import MAIL_DOMAIN, bearer, relay, seen
from tests.integration.test_email import ANNA, case_of, email

BOSS = bearer("boss", "manager")
JSON = {"Content-Type": "application/json"}
ATTACHMENT = """MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b"

--b
Content-Type: text/plain

{text}
--b
Content-Type: application/pdf
Content-Disposition: attachment; filename="grades.pdf"

{pdf}
--b--
"""


def contact_identities(store, contact_id: str) -> list[str]:
    item = store.client.get_item(
        TableName=store.table, Key={"pk": {"S": f"CONTACT#{contact_id}"}, "sk": {"S": "PROFILE"}}
    )["Item"]
    return sorted(v["S"] for v in item["identities"]["L"])


def detail(api, case_id: str, headers=ANNA) -> dict:
    answer = api.get(f"/cases/{case_id}", headers=headers)
    assert answer.status_code == 200, answer.body
    return json.loads(answer.body)


def reply(api, case_id: str, text: str = "Which subjects?"):
    return api.post(
        f"/cases/{case_id}/replies",
        body=json.dumps({"body": text, "seen": seen(case_id)}),
        headers={**ANNA, **JSON},
    )


def stranger(**changes) -> bytes:
    fields = {
        "sender": "mallory@evil.example",
        "mid": "<m1@evil.example>",
        "subject": "Re: Question",
        "body": "Please send me everything",
    }
    return email(**{**fields, **changes})


# --- item 1: threading trusts only what a stranger cannot forge -------------------------------


@pytest.mark.parametrize("how", ["in_reply_to", "reply_address"])
def test_a_stranger_cannot_join_a_citizens_case(api, local_services, outbox, how):
    store = local_services.store
    assert relay(api, email()).status_code == 201
    victim = case_of(store)
    if how == "in_reply_to":
        attack = stranger(extra="In-Reply-To: <q1@example.com>\r\nReferences: <q1@example.com>")
    else:
        attack = stranger(to=f"studyhelp+{victim.reply_token}@{MAIL_DOMAIN}")
    answer = relay(api, attack)
    assert answer.status_code == 201
    assert victim.id not in answer.body.decode()

    theirs = case_of(store, "mallory@evil.example")
    assert theirs.id != victim.id and theirs.contact_id != victim.contact_id
    assert [i.body for i in case_of(store).timeline if i.direction == "in"] == ["Hi, I need help."]
    assert contact_identities(store, victim.contact_id) == ["email#sofie@example.com"]
    shown = detail(api, theirs.id)
    assert shown["possible_link"] == {"case_id": victim.id, "reason": how}
    assert detail(api, victim.id)["possible_link"] is None

    assert reply(api, victim.id).status_code == 201
    assert outbox.sent[-1][1] == "sofie@example.com"  # the practitioner still answers the victim


def test_confirming_a_possible_link_makes_the_address_the_contacts(api, local_services, outbox):
    store = local_services.store
    relay(api, email())
    victim = case_of(store)
    relay(api, stranger(sender="mum@example.org", extra="In-Reply-To: <q1@example.com>"))
    mums = case_of(store, "mum@example.org")

    answer = api.post(f"/cases/{mums.id}/link", headers=ANNA)
    assert answer.status_code == 200, answer.body
    assert json.loads(answer.body)["possible_link"] is None
    assert json.loads(answer.body)["linked_to"] == victim.id

    mum = store.find_identity(Identity("email", "mum@example.org"))
    assert mum.contact_id == victim.contact_id
    assert contact_identities(store, victim.contact_id) == [
        "email#mum@example.org",
        "email#sofie@example.com",
    ]
    assert reply(api, victim.id).status_code == 201
    assert outbox.sent[-1][1] == "mum@example.org"  # reply_to changed on the confirmation
    relay(api, stranger(sender="mum@example.org", mid="<m2@example.org>", body="And again"))
    assert [i.body for i in case_of(store).timeline if i.direction == "in"][-1] == "And again"
    assert api.post(f"/cases/{mums.id}/link", headers=ANNA).status_code == 409  # once


def test_dismissing_a_possible_link_changes_nothing_else(api, local_services, outbox):
    store = local_services.store
    relay(api, email())
    victim = case_of(store)
    relay(api, stranger(extra="In-Reply-To: <q1@example.com>"))
    theirs = case_of(store, "mallory@evil.example")

    answer = api.post(f"/cases/{theirs.id}/link/dismiss", headers=ANNA)
    assert answer.status_code == 200, answer.body
    assert detail(api, theirs.id)["possible_link"] is None
    assert store.find_identity(Identity("email", "mallory@evil.example")).contact_id == (
        theirs.contact_id
    )
    assert contact_identities(store, victim.contact_id) == ["email#sofie@example.com"]
    assert api.post(f"/cases/{theirs.id}/link", headers=ANNA).status_code == 409
    assert api.post(f"/cases/{theirs.id}/link/dismiss", headers=ANNA).status_code == 409


def test_only_someone_allowed_on_both_cases_may_confirm(api, local_services, outbox):
    from chalicelib.domain.model import Practitioner

    store = local_services.store
    store.create_practitioner(Practitioner("bo", "Bo", ("careers",), ("da",), 5))
    relay(api, email())
    relay(api, stranger(extra="In-Reply-To: <q1@example.com>"))
    theirs = case_of(store, "mallory@evil.example")
    answer = api.post(f"/cases/{theirs.id}/link", headers=bearer("bo", "practitioner"))
    assert answer.status_code == 403
    assert detail(api, theirs.id)["possible_link"] is not None
    assert api.post("/cases/nope/link", headers=BOSS).status_code == 404


def ses_delivery(api, local_services, raw: bytes, message_id: str, dmarc: str, spam: str = "PASS"):
    from chalice.test import Client

    import app as application

    key = f"inbound/{message_id}"
    local_services.blobs.put(key, raw, "message/rfc822")
    note = {
        "notificationType": "Received",
        "mail": {"messageId": message_id},
        "receipt": {
            "action": {"type": "S3", "objectKey": key},
            "spamVerdict": {"status": spam},
            "virusVerdict": {"status": "PASS"},
            "spfVerdict": {"status": "FAIL"},
            "dkimVerdict": {"status": "FAIL"},
            "dmarcVerdict": {"status": dmarc},
        },
    }
    with Client(application.app) as client:
        event = client.events.generate_sns_event(message=json.dumps(note), subject="Received")
        client.lambda_.invoke("email_from_ses", event)


def test_a_sender_failing_dmarc_never_joins_by_from_alone(api, local_services, outbox):
    store = local_services.store
    relay(api, email())
    victim = case_of(store)
    spoof = stranger(sender="sofie@example.com", mid="<spoof@evil.example>", body="Spoofed")
    ses_delivery(api, local_services, spoof, "ses-spoof-1", "FAIL")

    assert [i.body for i in case_of(store).timeline if i.direction == "in"] == ["Hi, I need help."]
    [other] = [
        c["id"]["S"]
        for c in store.client.scan(TableName=store.table)["Items"]
        if c["type"]["S"] == "case" and c["id"]["S"] != victim.id
    ]
    shown = detail(api, other)
    assert shown["possible_link"] == {"case_id": victim.id, "reason": "dmarc_fail"}
    [inbound] = [i for i in shown["timeline"] if i["direction"] == "in"]
    assert inbound["email"]["verdicts"]["dmarc"] == "FAIL"
    assert contact_identities(store, victim.contact_id) == ["email#sofie@example.com"]


def test_ses_verdicts_are_kept_and_a_passing_sender_joins(api, local_services, outbox):
    store = local_services.store
    relay(api, email())
    again = email(mid="<q2@example.com>", body="Via SES")
    ses_delivery(api, local_services, again, "ses-ok-1", "PASS")
    inbound = [i for i in case_of(store).timeline if i.direction == "in"]
    assert [i.body for i in inbound] == ["Hi, I need help.", "Via SES"]
    shown = detail(api, case_of(store).id)
    assert shown["timeline"][-1]["email"]["verdicts"]["dmarc"] == "PASS"


def test_a_header_cannot_talk_down_ses_spam_verdict(api, local_services, outbox):
    store = local_services.store
    spam = email(extra="X-SES-Spam-Verdict: PASS", body="Cheap pills")
    ses_delivery(api, local_services, spam, "ses-spam-1", "PASS", spam="FAIL")
    assert case_of(store).queue == "quarantine" and outbox.sent == []


# --- item 2: nothing a sender chooses can overwrite stored data ------------------------------


def test_blobs_are_written_once(tmp_path):
    from chalicelib.adapters.blobs import LocalBlobs

    blobs = LocalBlobs(tmp_path)
    blobs.put_new("raw/a.eml", b"first", "message/rfc822")
    with pytest.raises(FileExistsError):
        blobs.put_new("raw/a.eml", b"second", "message/rfc822")
    assert blobs.get("raw/a.eml") == b"first"


def test_a_reused_message_id_cannot_overwrite_the_victims_bytes(api, local_services, outbox):
    store, blobs = local_services.store, local_services.blobs
    body = ATTACHMENT.format(text="My grades", pdf="%PDF-1.4 real grades").replace("\n", "\r\n")
    raw = email(body="", extra=body.split("\r\n\r\n", 1)[0]).replace(
        b"\r\n\r\n\r\n", b"\r\n\r\n" + body.split("\r\n\r\n", 1)[1].encode() + b"\r\n"
    )
    assert relay(api, raw).status_code == 201
    victim = case_of(store)
    [mine] = [i for i in victim.timeline if i.direction == "in"]
    [pdf] = mine.email.attachments
    assert blobs.get(pdf.key).startswith(b"%PDF-1.4 real grades")

    forged = raw.replace(b"real grades", b"EVIL").replace(b"sofie@", b"mallory@")
    answer = relay(api, forged)
    assert answer.status_code == 201
    assert victim.id not in answer.body.decode()
    assert blobs.get(mine.email.raw_key) == raw
    assert blobs.get(pdf.key).startswith(b"%PDF-1.4 real grades")
    theirs = case_of(store, "mallory@example.com")
    assert theirs.id != victim.id
    [attack] = [i for i in theirs.timeline if i.direction == "in"]
    assert blobs.get(attack.email.attachments[0].key).startswith(b"%PDF-1.4 EVIL")

    repeat = relay(api, forged)  # the same bytes again: a duplicate, naming no case
    assert repeat.status_code == 200
    assert json.loads(repeat.body) == {"duplicate": True}
    assert len([i for i in case_of(store, "mallory@example.com").timeline]) == len(theirs.timeline)


# --- item 6: header values that broke outgoing mail -----------------------------------------


@pytest.mark.parametrize(
    "subject",
    [
        "=?utf-8?b?SGVsbG8NCkJjYzogZXZpbEBldmlsLmV4YW1wbGU=?=",  # "Hello\r\nBcc: evil@..."
        "=?utf-8?q?Line=0Bbreak?=",  # a vertical tab
        "=?utf-8?b?TGluZeKAqHNlcGFyYXRvcg==?=",  # U+2028
    ],
)
def test_a_subject_with_line_breaks_is_accepted_and_replies_still_go(
    api, local_services, outbox, subject
):
    answer = relay(api, email(subject=subject))
    assert answer.status_code == 201, answer.body
    case = case_of(local_services.store)
    stored = case.timeline[0].email.subject
    assert not any(c in stored for c in "\r\n\x0b\x0c\u2028\u2029\x85")
    assert reply(api, case.id).status_code == 201
    sent = outbox.last()
    assert sent["Bcc"] is None and "\n" not in sent["Subject"]
    assert sent["To"] == "sofie@example.com"
