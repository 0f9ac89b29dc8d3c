"""A send that never finishes (the Lambda times out, runs out of memory or is replaced between
recording a message and storing its status) still ends as every message does: sent by the
outbox after its lease, exactly once, or failed visibly on the case. On the in-memory fake and
on DynamoDB Local alike."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from chalicelib.adapters.memory import RecordingSender
from chalicelib.domain import delivery, intake, privacy
from chalicelib.domain.delivery import Outgoing
from chalicelib.domain.hours import demo_hours
from chalicelib.domain.model import EmailDetails, Identity, InboundMessage
from tests.conftest import deps_of

PHONE = Identity("phone", "+4520000001")
ADDRESS = Identity("email", "elev@example.org")


class LambdaDied(BaseException):
    """What the process sees when its Lambda is stopped mid-send: not an `Exception`, so no
    handler of ours runs (as with a time-out, an OOM kill or a deploy)."""


class Dying(RecordingSender):
    """Every send dies; nothing reaches the provider."""

    def _send(self, kind, **what):
        raise LambdaDied


class Slow(RecordingSender):
    """The provider takes the message only when the test lets it."""

    def __init__(self) -> None:
        super().__init__()
        self.entered, self.go = threading.Event(), threading.Event()

    def _send(self, kind, **what):
        self.entered.set()
        assert self.go.wait(10)
        return super()._send(kind, **what)


@pytest.fixture(params=["memory", "dynamodb"])
def either(request):
    return request.getfixturevalue("memory_store" if request.param == "memory" else "local_store")


def counts(sent: int = 0, failed: int = 0) -> dict[str, int]:
    """What a run of the retry job reports: none left retrying in these tests."""
    return {"sent": sent, "retrying": 0, "failed": failed}


def _deps(store, clock, sender):
    return deps_of(store, clock, hours=demo_hours(), sms=sender, calls=sender, mail=sender)


def _case(store, clock, sender: Identity = PHONE) -> str:
    channel = "sms" if sender.kind == "phone" else "email"
    message = InboundMessage(channel, "test", f"in-{sender.value}", sender, "us", "Hi")
    return intake.receive(_deps(store, clock, RecordingSender()), message).case_id


def _message(store, case_id: str, message_id: str):
    [found] = [
        i for i in store.get_case(case_id, with_timeline=True).timeline if i.id == message_id
    ]
    return found


def _died(deps, out: Outgoing) -> str:
    """Send `out` with a sender that dies; the id of the message it left on the case."""
    before = {i.id for i in deps.store.get_case(out.case_id, with_timeline=True).timeline}
    with pytest.raises(LambdaDied):
        delivery.send(deps, out)
    [left] = [
        i
        for i in deps.store.get_case(out.case_id, with_timeline=True).timeline
        if i.id not in before
    ]
    assert left.status == "queued"
    return left.id


def test_an_sms_whose_send_died_is_sent_by_the_outbox_after_its_lease_exactly_once(either, clock):
    case_id = _case(either, clock)
    message_id = _died(_deps(either, clock, Dying()), Outgoing(case_id, "sms", PHONE.value, "Hi"))
    provider = RecordingSender()
    deps = _deps(either, clock, provider)
    clock.at += timedelta(minutes=1)  # still within its lease: the send may be running
    assert delivery.retry_due(deps) == counts()
    clock.at += delivery.LEASE
    assert delivery.retry_due(deps) == counts(sent=1)
    clock.at += timedelta(hours=1)
    assert delivery.retry_due(deps)["sent"] == 0
    assert [(s["to"], s["body"]) for s in provider.sent] == [(PHONE.value, "Hi")]
    assert _message(either, case_id, message_id).status == "queued"  # as the provider said


def test_a_message_sent_is_never_sent_again(either, clock):
    case_id = _case(either, clock)
    provider = RecordingSender()
    deps = _deps(either, clock, provider)
    delivery.send_sms(deps, case_id, "Hi")
    clock.at += timedelta(days=1)
    assert delivery.retry_due(deps) == counts()
    assert len(provider.sent) == 1


def test_a_slow_send_and_the_retry_job_racing_send_once(either, clock):
    case_id = _case(either, clock)
    slow = Slow()
    original = threading.Thread(
        target=delivery.send_sms, args=(_deps(either, clock, slow), case_id, "Hi")
    )
    original.start()
    assert slow.entered.wait(10)
    # the job runs while the provider has not answered yet (at most its time-out)
    clock.at += timedelta(seconds=_deps(either, clock, slow).settings.provider_timeout_seconds)
    assert delivery.retry_due(_deps(either, clock, slow))["sent"] == 0
    slow.go.set()
    original.join(10)
    clock.at += timedelta(hours=1)
    assert delivery.retry_due(_deps(either, clock, slow))["sent"] == 0
    assert len(slow.sent) == 1


def test_an_email_or_a_call_whose_send_died_fails_visibly_and_is_never_sent_late(either, clock):
    case_id = _case(either, clock)
    dying = _deps(either, clock, Dying())
    mail = _died(dying, Outgoing(case_id, "email", ADDRESS.value, "Hi", raw=b"MIME"))
    call = _died(dying, Outgoing(case_id, "voice", PHONE.value, "Callback", caller="+4540000000"))
    provider = RecordingSender()
    clock.at += delivery.LEASE + timedelta(minutes=1)
    assert delivery.retry_due(_deps(either, clock, provider)) == counts(failed=2)
    for message_id in (mail, call):
        shown = _message(either, case_id, message_id)
        assert (shown.status, shown.error_code) == ("failed", delivery.INTERRUPTED)
    assert provider.sent == []


def test_answers_recorded_with_the_citizens_message_carry_the_lease(either, clock):
    """A booking's confirmation is recorded in the intake's transaction and sent after it; an
    email's acknowledgement too. Had the function died in between, the outbox still ends it."""
    message = InboundMessage("sms", "test", "in-2", PHONE, "us", "Book me")
    confirmation = Outgoing("", "sms", PHONE.value, "Your seat is booked")
    deps = _deps(either, clock, RecordingSender())
    case_id = intake.receive(deps, message, answers=(confirmation,)).case_id
    details = EmailDetails("Hi", "<in-3@example.org>")
    mail = InboundMessage("email", "test", "in-3", ADDRESS, "us", "Hi", email=details)
    mail_case = intake.receive(deps, mail).case_id
    provider = RecordingSender()
    clock.at += delivery.LEASE + timedelta(minutes=1)
    assert delivery.retry_due(_deps(either, clock, provider)) == counts(sent=1, failed=1)
    assert [s["body"] for s in provider.sent] == ["Your seat is booked"]
    [ack] = [
        i for i in either.get_case(mail_case, with_timeline=True).timeline if i.direction == "out"
    ]
    assert (ack.status, ack.error_code) == ("failed", delivery.INTERRUPTED)
    # the SMS's own acknowledgement went back in the TwiML answer: never sent again
    assert case_id and len(provider.sent) == 1


def test_an_erased_citizens_interrupted_message_is_never_sent(either, clock):
    case_id = _case(either, clock)
    message_id = _died(_deps(either, clock, Dying()), Outgoing(case_id, "sms", PHONE.value, "Hi"))
    provider = RecordingSender()
    deps = _deps(either, clock, provider)
    contact = either.find_identity(PHONE).contact_id
    assert privacy.erase(deps, contact, "dpo")["cancelled"] == 1
    clock.at += delivery.LEASE + timedelta(minutes=1)
    assert delivery.retry_due(deps) == counts()
    assert provider.sent == [] and either.due(clock.at + timedelta(days=1)) == []
    assert _message(either, case_id, message_id).status == "failed"
