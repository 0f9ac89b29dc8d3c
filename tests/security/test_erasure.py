"""Issue 14, item 3: erasure reaches every copy and stays erased.

Each test plays what someone would see after a manager erased a citizen: the retry job, a scan of
the whole table, the blob store, mail to the old reply address, a provider's retry, an SMS whose
transaction lands just after the erasure, and a second erasure.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from chalicelib.adapters.senders import Sent
from chalicelib.domain import delivery, intake, privacy
from chalicelib.domain.model import CaseRef, Identity, InboundMessage, Practitioner, Webinar
from tests.conftest import MAIL_DOMAIN, bearer, deps_of, relay, seen
from tests.sending import Fixed
from tests.twilio_fakes import call_form, new_sid, recording_form, signed, sms_form

BOSS = bearer("boss", "manager")
ANNA = {**bearer("anna", "practitioner"), "Content-Type": "application/json"}
PHONE = "+4520000099"
ADDRESS = "sofie@example.com"
SECRET = "I am scared about failing maths"


class Refusing:
    """A provider that is down: every send times out."""

    def send_sms(self, to: str, body: str, status_callback: str | None) -> Sent:
        raise TimeoutError("provider down")

    def send_email(self, raw: bytes, to: str, ref: str | None = None) -> Sent:
        raise TimeoutError("provider down")


def _refused_webinar_email(deps: Any, case_id: str, raw: bytes) -> None:
    """A webinar message on its way that the provider does not take: it goes on the case (unless
    its citizen was erased) and into the outbox."""
    out = delivery.Outgoing(
        case_id, "email", ADDRESS, "See you there, Sofie", raw=raw, automated=True
    )
    delivery.send(replace(deps, mail=Refusing()), out, deps.store.add_interaction_unless_erased)


class Recording:
    """A provider that takes everything, and remembers whom it was asked to reach."""

    def __init__(self) -> None:
        self.sent: list[str] = []

    def send_sms(self, to: str, body: str, status_callback: str | None) -> Sent:
        self.sent.append(to)
        return Sent("twilio", "SM" + "1" * 32, "sent")

    def send_email(self, raw: bytes, to: str, ref: str | None = None) -> Sent:
        self.sent.append(to)
        return Sent("ses", "ses-1", "sent")


def _sms(api: Any, body: str, sid: str | None = None) -> Any:
    form = sms_form(PHONE, body, sid)
    return api.post("/webhooks/twilio/sms", **signed("/webhooks/twilio/sms", form))


def _erase(api: Any, contact_id: str) -> dict[str, Any]:
    answer = api.post(f"/contacts/{contact_id}/erase", headers=BOSS)
    assert answer.status_code == 200, answer.body
    return json.loads(answer.body)


def _table(store: Any) -> str:
    """Every item of the table, as text (a scan, page by page)."""
    items, kwargs = [], {"TableName": store.table}
    while True:
        page = store.client.scan(**kwargs)
        items += page["Items"]
        if "LastEvaluatedKey" not in page:
            return json.dumps(items)
        kwargs["ExclusiveStartKey"] = page["LastEvaluatedKey"]


def _anna(store: Any, on_duty: bool = False) -> None:
    store.create_practitioner(
        Practitioner("anna", "Anna", ("education", "general"), ("da",), 5, on_duty)
    )


def _email(api: Any, headers: str, body: str = SECRET) -> dict[str, Any]:
    raw = (
        f"{headers}\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=b\r\n\r\n"
        f"--b\r\nContent-Type: text/plain\r\n\r\n{body}\r\n--b\r\nContent-Type: application/pdf"
        "\r\nContent-Disposition: attachment; filename=grades.pdf\r\n\r\n"
        "%PDF-1.4 grades\r\n--b--\r\n"
    ).encode()
    answer = relay(api, raw)
    assert answer.status_code in (200, 201), answer.body
    return json.loads(answer.body)


def _email_citizen(api: Any, store: Any) -> tuple[str, str]:
    """Sofie writes (with an attachment); the case's contact id and case id."""
    first = _email(
        api,
        f"From: Sofie <{ADDRESS}>\r\nTo: studyhelp@{MAIL_DOMAIN}\r\nSubject: My grades\r\n"
        "Message-ID: <g1@example.com>",
    )
    case = store.get_case(first["case_id"])
    return case.contact_id, case.id


def test_erasure_cancels_parked_messages_so_the_retry_job_sends_nothing(api, local_services, clock):
    store, blobs = local_services.store, local_services.blobs
    _anna(store)
    assert _sms(api, SECRET).status_code == 200
    case = store.get_case(store.find_identity(Identity("phone", PHONE)).open_case_id)
    local_services.sms = Refusing()
    body = json.dumps({"body": "Call me", "seen": seen(case.id)})
    reply = api.post(f"/cases/{case.id}/replies", body=body, headers=ANNA)
    assert json.loads(reply.body)["status"] == "retrying"
    raw = f"To: {ADDRESS}\r\nSubject: Your seat\r\n\r\nSee you there, Sofie\r\n".encode()
    _refused_webinar_email(local_services, case.id, raw)
    parked = store.due(clock() + timedelta(hours=1))
    assert {p.channel for p in parked} == {"sms", "email"}
    [raw_key] = [p.raw_key for p in parked if p.raw_key]
    assert blobs.get(raw_key) == raw

    counts = _erase(api, case.contact_id)

    provider = Recording()
    later = clock() + timedelta(hours=1)
    result = delivery.retry_due(
        replace(local_services, sms=provider, mail=provider, clock=Fixed(later))
    )
    assert provider.sent == [] and result["sent"] == 0
    assert store.due(clock() + timedelta(days=1)) == []
    with pytest.raises(FileNotFoundError):
        blobs.get(raw_key)
    assert counts["cancelled"] == 2
    everything = _table(store)
    for personal in (PHONE, ADDRESS, SECRET, "See you there", "Call me"):
        assert personal not in everything, personal


def test_after_erasure_no_item_holds_an_address_message_id_reply_token_or_body(
    api, local_services, clock
):
    store = local_services.store
    _anna(store)
    contact_id, case_id = _email_citizen(api, store)
    token = store.get_case(case_id).reply_token
    body = json.dumps({"body": "Hi", "seen": seen(case_id)})
    reply = api.post(f"/cases/{case_id}/replies", body=body, headers=ANNA)
    assert reply.status_code == 201
    ours = next(
        e.email.message_id
        for e in store.get_case(case_id, with_timeline=True).timeline
        if e.direction == "out" and e.email and e.email.message_id
    )
    again = _email(
        api,
        f"From: {ADDRESS}\r\nTo: studyhelp+{token}@{MAIL_DOMAIN}\r\nSubject: Re: My grades\r\n"
        f"In-Reply-To: {ours}\r\nMessage-ID: <g2@example.com>",
        "It is about my maths exam",
    )
    assert again["case_id"] == case_id

    _erase(api, contact_id)

    everything = _table(store)
    for personal in (
        ADDRESS,
        "g1@example.com",
        "g2@example.com",
        ours.strip("<>"),
        token,
        SECRET,
        "my maths exam",
        "grades.pdf",
    ):
        assert personal not in everything, personal


def test_the_erased_citizen_books_again_as_a_new_person(api, local_services, clock):
    store = local_services.store
    store.create_webinar(
        Webinar("w1", "Maths", clock.at + timedelta(days=2), 60, 5, 5, "education", "https://m/w")
    )

    def book() -> Any:
        body = json.dumps({"email": ADDRESS, "first_name": "Sofie", "consent": True})
        headers = {"Content-Type": "application/json"}
        return api.post("/webinars/w1/bookings", headers=headers, body=body)

    assert book().status_code == 202
    [first] = store.bookings_of("w1")
    assert first.holder and first.booker
    _erase(api, first.contact_id)
    everything = _table(store)
    # neither the address nor a digest of it (the holder and the booking counters) is left
    for trace in (ADDRESS, first.holder, first.booker):
        assert trace not in everything, trace

    assert book().status_code == 202
    [fresh] = [b for b in store.bookings_of("w1") if b.email == ADDRESS]
    assert fresh.contact_id != first.contact_id and fresh.case_id != first.case_id
    assert store.contact_record(first.contact_id).get("identities", []) == []


def test_mail_to_the_old_reply_address_opens_a_new_case_on_a_new_contact(api, local_services):
    store = local_services.store
    contact_id, case_id = _email_citizen(api, store)
    token = store.get_case(case_id).reply_token
    _erase(api, contact_id)

    later = _email(
        api,
        f"From: {ADDRESS}\r\nTo: studyhelp+{token}@{MAIL_DOMAIN}\r\nSubject: Re: My grades\r\n"
        "In-Reply-To: <g1@example.com>\r\nReferences: <g1@example.com>\r\n"
        "Message-ID: <g3@example.com>",
        "Are you still there?",
    )
    assert later["case_id"] != case_id
    fresh = store.get_case(later["case_id"])
    assert fresh.contact_id != contact_id
    erased = store.get_case(case_id, with_timeline=True)
    assert erased.reply_to is None and erased.status == "closed"
    assert all("still there" not in (e.body or "") for e in erased.timeline)
    assert store.contact_record(contact_id)["cases"] == [case_id]


class EraseBeforeWriting:
    """The store, except that the erasure runs between intake's read and its transaction."""

    def __init__(self, deps: Any, contact_id: str) -> None:
        self._deps, self._store, self._contact_id = deps, deps.store, contact_id
        self.erased = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def record_inbound(self, write: Any) -> None:
        if not self.erased:
            self.erased = True
            privacy.erase(self._deps, self._contact_id, "boss")
        self._store.record_inbound(write)


def test_an_sms_committed_just_after_erasure_lands_on_a_fresh_contact(local_services, clock):
    store = local_services.store
    citizen = Identity("phone", PHONE)

    def sms(sid: str, body: str) -> InboundMessage:
        return InboundMessage("sms", "twilio", sid, citizen, "+4570203040", body)

    hours = local_services.hours()
    first = intake.receive(deps_of(store, clock, hours=hours), sms("SM" + "a" * 32, "hello"))
    contact_id = store.find_identity(citizen).contact_id
    racing = EraseBeforeWriting(local_services, contact_id)

    late = intake.receive(deps_of(racing, clock, hours=hours), sms("SM" + "b" * 32, SECRET))

    assert racing.erased
    assert late.case_id != first.case_id
    assert store.find_identity(citizen).contact_id != contact_id
    erased = store.get_case(first.case_id, with_timeline=True)
    assert erased.status == "closed" and erased.reply_to is None
    assert all(SECRET not in (e.body or "") for e in erased.timeline)
    contact = store.contact_record(contact_id)
    assert contact["cases"] == [first.case_id] and not contact.get("identities")
    assert store.find_open_case(contact_id) is None


def test_erasure_closes_the_open_case_and_erasing_twice_is_harmless(api, local_services):
    store = local_services.store
    _anna(store, on_duty=True)
    assert _sms(api, SECRET).status_code == 200
    case = store.get_case(store.find_identity(Identity("phone", PHONE)).open_case_id)
    assert case.assignee == "anna"

    _erase(api, case.contact_id)
    closed = store.get_case(case.id)
    assert (closed.status, closed.outcome) == ("closed", "erased")
    assert store.find_open_case(case.contact_id) is None
    assert store.get_practitioner("anna").active_cases == 0  # her slot is free again
    inbox = json.loads(api.get("/cases", headers=BOSS).body)
    assert case.id not in json.dumps(inbox)

    again = _erase(api, case.contact_id)
    assert again["identities"] == 0 and again["cancelled"] == 0
    assert store.get_case(case.id).status == "closed"
    everything = _table(store)
    assert PHONE not in everything and SECRET not in everything


def test_a_provider_retry_after_erasure_is_answered_with_nothing_and_recorded_nowhere(
    api, local_services
):
    store = local_services.store
    sid = "SM" + "c" * 32
    first = _sms(api, SECRET, sid)
    assert "<Message" in first.body.decode()  # the acknowledgement
    contact_id = store.find_identity(Identity("phone", PHONE)).contact_id
    _erase(api, contact_id)

    retry = _sms(api, SECRET, sid)

    assert retry.status_code == 200
    assert "<Message" not in retry.body.decode()  # nothing is sent to the erased number again
    assert store.find_identity(Identity("phone", PHONE)) is None
    everything = _table(store)
    assert PHONE not in everything and SECRET not in everything


def test_an_erased_case_cannot_be_reopened(api, local_services):
    store = local_services.store
    assert _sms(api, SECRET).status_code == 200
    case = store.get_case(store.find_identity(Identity("phone", PHONE)).open_case_id)
    ref = CaseRef(case.id, case.queue, case.language, case.contact_id, case.assignee)
    store.close(ref, "answered", "boss", local_services.clock())  # closed before the erasure
    _erase(api, case.contact_id)

    reopened = api.post(f"/cases/{case.id}/reopen", headers=BOSS)

    assert reopened.status_code == 409
    assert json.loads(reopened.body)["error"]["code"] == "erased"
    assert store.get_case(case.id).status == "closed"
    assert store.find_open_case(case.contact_id) is None  # nothing to reply to, nobody to route


def test_a_voicemail_recorded_after_erasure_is_stored_nowhere(api, local_services):
    store = local_services.store
    voice, sid = "/webhooks/twilio/voice", new_sid("CA")
    assert api.post(voice, **signed(voice, call_form(PHONE, sid))).status_code == 200
    case = store.get_case(store.find_identity(Identity("phone", PHONE)).open_case_id)
    _erase(api, case.contact_id)

    recording = recording_form(PHONE, sid, "RE-after")
    path = f"{voice}/recording"
    assert api.post(path, **signed(path, recording)).status_code == 204

    timeline = store.get_case(case.id, with_timeline=True).timeline
    assert [e for e in timeline if e.status == "voicemail"] == []
    assert "RE-after" not in _table(store)


def test_a_message_refused_after_the_erasure_is_not_parked_on_the_erased_case(
    api, local_services, clock
):
    """A webinar confirmation was on its way when the manager erased its citizen; the provider
    then refused it. It must not come back onto the scrubbed case, nor wait to be retried."""
    store, blobs = local_services.store, local_services.blobs
    assert _sms(api, SECRET).status_code == 200
    case = store.get_case(store.find_identity(Identity("phone", PHONE)).open_case_id)
    _erase(api, case.contact_id)

    raw = f"To: {ADDRESS}\r\nSubject: Your seat\r\n\r\nSee you there, Sofie\r\n".encode()
    _refused_webinar_email(local_services, case.id, raw)

    assert store.due(clock() + timedelta(days=1)) == []
    everything = _table(store)
    assert ADDRESS not in everything and "See you there" not in everything
    assert not list(blobs.directory.glob(f"outbox/{case.id}/*"))


def test_mail_threaded_before_the_erasure_and_written_after_it_lands_on_a_fresh_contact(
    local_services, clock
):
    """The thread (reply address, In-Reply-To) was looked up just before the erasure; the write
    comes after it. It must neither join the erased contact nor give up with 503."""
    store = local_services.store
    hours = local_services.hours()
    citizen = Identity("phone", PHONE)
    first = intake.receive(
        deps_of(store, clock, hours=hours),
        InboundMessage("sms", "twilio", "SM" + "d" * 32, citizen, "+4570203040", "hello"),
    )
    contact_id = store.find_identity(citizen).contact_id
    thread = CaseRef(first.case_id, "general", None, contact_id)
    racing = EraseBeforeWriting(local_services, contact_id)
    stranger = Identity("email", ADDRESS)
    mail = InboundMessage("email", "email", "<g9@example.com>", stranger, "studyhelp", SECRET)

    late = intake.receive(deps_of(racing, clock, hours=hours), mail, thread=thread)

    assert racing.erased and late.case_id != first.case_id
    assert store.find_identity(stranger).contact_id != contact_id
    assert store.contact_record(contact_id).get("identities") is None
