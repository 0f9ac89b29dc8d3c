"""The one delivery path on in-memory fakes: no AWS, no DynamoDB, milliseconds."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta

import pytest

from chalicelib.config import load_settings
from chalicelib.domain import delivery
from chalicelib.domain.delivery import Outgoing
from chalicelib.domain.errors import Conflict, MessageRejected
from chalicelib.domain.model import Identity, IdentityRecord, Interaction, Parked

START = datetime(2026, 11, 24, 9, tzinfo=UTC)


@dataclass
class Sent:
    provider: str
    provider_id: str
    status: str


class Store:
    """Just enough of the store for `delivery`: events by (case, id), an outbox, identities."""

    def __init__(self) -> None:
        self.events: dict[tuple[str, str], Interaction] = {}
        self.ranks: dict[tuple[str, str], int] = {}
        self.errors: dict[tuple[str, str], str] = {}
        self.parked: dict[tuple[str, str], Parked] = {}
        self.identities: dict[Identity, IdentityRecord] = {}
        self.erased: set[str] = set()

    def add_interaction(self, interaction: Interaction) -> None:
        key = (interaction.case_id, interaction.id)
        assert key not in self.events
        self.events[key] = interaction
        self.ranks[key] = 0

    def add_interaction_unless_erased(self, interaction: Interaction) -> bool:
        if interaction.case_id in self.erased:
            return False
        self.add_interaction(interaction)
        return True

    def find_identity(self, identity: Identity) -> IdentityRecord | None:
        return self.identities.get(identity)

    def get_reply_identity(self, case_id: str) -> Identity | None:
        return Identity("phone", "+4520000001") if case_id == "c1" else None

    def update_delivery_status(self, case_id, interaction_id, update) -> bool:
        key = (case_id, interaction_id)
        if key not in self.events or self.ranks[key] >= update.rank:
            return False
        self.unpark(case_id, interaction_id, update)
        return True

    def park(self, case_id, interaction_id, retry) -> bool:
        key = (case_id, interaction_id)
        event = self.events.get(key)
        if event is None or case_id in self.erased:
            return False
        self.events[key] = replace(event, status="retrying")
        slot = f"{retry.at.isoformat()}#{case_id}#{interaction_id}"
        self.parked[key] = Parked(
            case_id,
            interaction_id,
            event.channel,
            event.to or "",
            event.body,
            retry.attempts,
            slot,
            retry.raw_key,
        )
        return True

    def due(self, now: datetime) -> list[Parked]:
        return [p for p in self.parked.values() if p.slot <= now.isoformat() + "#~"]

    def claim(self, entry: Parked, lease_until: datetime) -> bool:
        key = (entry.case_id, entry.interaction_id)
        if key not in self.parked or self.parked[key].slot != entry.slot:
            return False
        self.parked[key] = replace(entry, slot=f"{lease_until.isoformat()}#lease")
        return True

    def unpark(self, case_id, interaction_id, update) -> None:
        key = (case_id, interaction_id)
        self.parked.pop(key, None)
        self.events[key] = replace(self.events[key], status=update.status)
        self.ranks[key] = update.rank
        if update.error_code:
            self.errors[key] = update.error_code


@dataclass
class Provider:
    """SMS, email and calls; `down` raises a time-out, `refuse` a final refusal."""

    down: bool = False
    refuse: str | None = None
    sent: list[str] = field(default_factory=list)

    def _answer(self, to: str, status: str) -> Sent:
        if self.refuse:
            raise MessageRejected(self.refuse)
        if self.down:
            raise TimeoutError("provider down")
        self.sent.append(to)
        return Sent("fake", f"id-{len(self.sent)}", status)

    def send_sms(self, to: str, body: str, status_callback: str | None) -> Sent:
        return self._answer(to, "queued")

    def send_email(self, raw: bytes, to: str, ref: str | None = None) -> Sent:
        return self._answer(to, "sent")

    def connect(self, practitioner: str, citizen: str, status_callback: str | None) -> Sent:
        return self._answer(citizen, "queued")


class Blobs:
    def __init__(self) -> None:
        self.files: dict[str, bytes] = {}

    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.files[key] = data

    def get(self, key: str) -> bytes:
        return self.files[key]

    def delete(self, key: str) -> None:
        self.files.pop(key, None)


@dataclass
class Deps:
    store: Store = field(default_factory=Store)
    sms: Provider = field(default_factory=Provider)
    mail: Provider = field(default_factory=Provider)
    calls: Provider = field(default_factory=Provider)
    blobs: Blobs = field(default_factory=Blobs)
    at: datetime = START
    settings: object = field(default_factory=lambda: load_settings({}))

    def clock(self) -> datetime:
        self.at += timedelta(microseconds=1)
        return self.at

    def hours(self):  # not needed by delivery
        raise AssertionError

    def public_url(self, path: str) -> str:
        return "https://example.org" + path


def sms(case_id: str = "c1", **extra) -> Outgoing:
    return Outgoing(case_id, "sms", "+4520000001", "Hi", **extra)


def test_recorded_before_sent_then_its_status():
    deps = Deps()
    sent = delivery.send(deps, sms())
    assert sent.status == "queued" and deps.sms.sent == ["+4520000001"]
    assert deps.store.events[("c1", sent.interaction_id)].status == "queued"


def test_refused_for_now_it_is_parked_retried_with_back_off_then_given_up():
    deps = Deps(sms=Provider(down=True))
    sent = delivery.send(deps, sms())
    assert sent.status == "retrying" and deps.store.parked
    assert delivery.retry_due(deps) == {"sent": 0, "retrying": 0, "failed": 0}  # 1 min back-off
    for _ in range(delivery.MAX_ATTEMPTS - 1):
        deps.at += timedelta(hours=1)
        delivery.retry_due(deps)
    key = ("c1", sent.interaction_id)
    assert deps.store.events[key].status == "failed"
    assert deps.store.errors[key] == "gave up: TimeoutError" and not deps.store.parked


def test_a_parked_email_keeps_its_bytes_and_goes_out_when_the_provider_is_back():
    deps = Deps(mail=Provider(down=True))
    out = Outgoing("c1", "email", "a@example.org", "Hi", raw=b"MIME")
    sent = delivery.send(deps, out)
    [raw_key] = deps.blobs.files
    assert deps.blobs.get(raw_key) == b"MIME"
    deps.mail.down, deps.at = False, deps.at + timedelta(minutes=2)
    assert delivery.retry_due(deps)["sent"] == 1
    assert deps.store.events[("c1", sent.interaction_id)].status == "sent"


def test_a_final_refusal_fails_at_once_and_is_never_retried():
    deps = Deps(sms=Provider(refuse="twilio-21211"))
    sent = delivery.send(deps, sms())
    assert sent.status == "failed"
    assert deps.store.errors[("c1", sent.interaction_id)] == "rejected: twilio-21211"
    assert not deps.store.parked


def test_a_call_is_never_parked():
    deps = Deps(calls=Provider(down=True))
    with pytest.raises(TimeoutError):
        delivery.send(deps, Outgoing("c1", "voice", "+4520000001", "Callback", caller="+4540"))
    [call] = deps.store.events.values()
    assert call.status == "failed" and not deps.store.parked


def test_a_message_for_an_erased_citizen_is_neither_recorded_nor_sent():
    deps = Deps()
    deps.store.erased.add("c2")
    record = deps.store.add_interaction_unless_erased
    assert delivery.send(deps, sms("c2"), record).status == "dropped"
    assert deps.store.events == {} and deps.sms.sent == []


def test_an_opted_out_number_is_refused_before_anything_is_recorded():
    deps = Deps()
    number = Identity("phone", "+4520000001")
    deps.store.identities[number] = IdentityRecord(number, "k1", "c1", opted_out=True)
    with pytest.raises(Conflict) as refused:
        delivery.send_sms(deps, "c1", "Hi")
    assert refused.value.code == "opted_out" and deps.store.events == {}


def test_status_reports_move_forward_only_by_their_channels_ranking():
    deps = Deps()
    sent = delivery.send(deps, sms())
    ref = delivery.reference("c1", sent.interaction_id)
    assert delivery.record_status(deps, ref, "delivered", "SM1", None)
    assert not delivery.record_status(deps, ref, "sent", "SM1", None)
    assert not delivery.record_status(deps, ref, "bounced", "SM1", None)  # an email status
    assert delivery.rank("email", "bounced") == delivery.rank("sms", "delivered") == 4
