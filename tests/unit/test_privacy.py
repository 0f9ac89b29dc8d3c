"""Export, erasure and retention on the in-memory store: what reaches where, and the counts."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from chalicelib.domain import privacy
from chalicelib.domain.errors import NotFound
from chalicelib.domain.ids import interaction_id, new_id
from chalicelib.domain.model import CaseOpening, CaseRef, Identity, InboundWrite, Interaction, Retry

PHONE = Identity("phone", "+4520000001")


def citizen_writes(deps, body: str = "my private worries", sid: str = "SM1") -> InboundWrite:
    """A first message from PHONE, recorded as intake records it."""
    at = deps.clock()
    contact_id, case_id = new_id(), new_id()
    inbound = Interaction(
        interaction_id(at), case_id, at, "sms", "in", body, provider="twilio", provider_id=sid
    )
    write = InboundWrite(
        identity=PHONE,
        contact_id=contact_id,
        new_contact=True,
        case_id=case_id,
        opening=CaseOpening(case_id, contact_id, "general", "sms", at, new_id()),
        interactions=(inbound,),
        reply=None,
        link_identity=True,
        provider="twilio",
        provider_id=sid,
    )
    deps.store.record_inbound(write)
    return write


def parked_reply(deps, write: InboundWrite) -> Interaction:
    """Our reply, refused by the provider and waiting in the outbox with its bytes."""
    at = deps.clock()
    sent = Interaction(
        interaction_id(at),
        write.case_id,
        at,
        "sms",
        "out",
        "We can talk",
        status="queued",
        to=PHONE.value,
    )
    deps.store.add_interaction(sent)
    deps.blobs.put("outbox/1", b"bytes", "text/plain")
    retry = Retry(1, at + timedelta(minutes=5), "Timeout", "outbox/1")
    deps.store.park(write.case_id, sent.id, retry)
    return sent


def test_erasure_reaches_every_copy_and_counts_it(memory_services):
    deps = memory_services
    write = citizen_writes(deps)
    parked_reply(deps, write)

    counts = privacy.erase(deps, write.contact_id, "boss")

    assert counts == {
        "identities": 1,
        "cases": 1,
        "messages": 3,  # the citizen's, our reply, the note closing the case
        "bookings": 0,
        "files": 1,
        "cancelled": 1,
        "recordings": 0,
    }
    store = deps.store
    assert store.find_identity(PHONE) is None
    case = store.get_case(write.case_id, with_timeline=True)
    assert (case.status, case.outcome, case.reply_to) == ("closed", "erased", None)
    assert all(i.body in ("", "Closed: erased") and i.to is None for i in case.timeline)
    assert "outbox/1" not in deps.blobs.blobs
    assert store.due(deps.clock() + timedelta(days=1)) == []
    assert store.find_delivery("twilio", "SM1").case_id == ""  # a retry records nothing
    [audit] = [a for a in store._audits if a["action"] == "erase"]
    assert audit["counts"] == counts and audit["by"] == "boss"


def test_erasing_twice_changes_nothing_more_and_a_stranger_is_not_found(memory_services):
    deps = memory_services
    write = citizen_writes(deps)
    privacy.erase(deps, write.contact_id, "boss")
    again = privacy.erase(deps, write.contact_id, "boss")
    assert again["identities"] == 0 and again["cancelled"] == 0 and again["files"] == 0
    with pytest.raises(NotFound):
        privacy.erase(deps, "nobody", "boss")


def test_export_hands_over_what_is_stored_and_is_audited(memory_services):
    deps = memory_services
    write = citizen_writes(deps)
    data = privacy.export(deps, write.contact_id, "boss")
    assert [i["value"] for i in data["identities"]] == [PHONE.value]
    [case] = data["cases"]
    assert case["id"] == write.case_id
    assert [e["body"] for e in case["timeline"]] == ["my private worries"]
    assert data["exported_at"].startswith(str(deps.clock().year))
    assert [a["action"] for a in deps.store._audits] == ["export"]
    with pytest.raises(NotFound):
        privacy.export(deps, "nobody", "boss")


def test_retention_takes_its_periods_from_the_settings(memory_services, clock):
    write = citizen_writes(memory_services)
    case = memory_services.store.get_case(write.case_id)
    ref = CaseRef(case.id, case.queue, None, case.contact_id)
    memory_services.store.close(ref, "answered", "anna", clock())
    settings = replace(memory_services.settings, retention_body_days=30)
    deps = replace(memory_services, settings=settings)

    clock.at += timedelta(days=29)
    assert privacy.purge(deps, identities=False, audits=False)["cases"] == 0
    clock.at += timedelta(days=2)
    counts = privacy.purge(deps, identities=False, audits=False)
    assert counts == {"cases": 1, "messages": 2, "files": 0, "recordings": 0}
    timeline = deps.store.get_case(write.case_id, with_timeline=True).timeline
    assert [i.body for i in timeline] == ["", ""]
    assert privacy.purge(deps, identities=False, audits=False)["messages"] == 0
