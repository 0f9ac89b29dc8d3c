"""Storage for intake: identities, contacts, the open-case pointer, one transaction per message."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from chalicelib.adapters.dynamodb.base import Cancelled, StoreBase, put, update
from chalicelib.adapters.dynamodb.codec import (
    case_key,
    contact_key,
    dedupe_key,
    identity_key,
    iso,
    mail_token_key,
    message_id_key,
    open_case_key,
    open_key,
)
from chalicelib.adapters.dynamodb.items import (
    case_ref,
    interaction_item,
    new_case_item,
    open_count,
    waiting_place,
)
from chalicelib.adapters.dynamodb.webinars import BOOKING_ROLES, booking_ops
from chalicelib.domain.errors import (
    BookingRefused,
    CaseChanged,
    CaseNotOpen,
    DuplicateDelivery,
    IdentityTaken,
    OpenCaseExists,
    SessionUnavailable,
    WriteConflict,
)
from chalicelib.domain.model import (
    Case,
    CaseRef,
    Delivery,
    Identity,
    IdentityRecord,
    InboundMessage,
    InboundWrite,
    Interaction,
    MailReads,
    preview_of,
)

DEDUPE_DAYS = 35  # longer than any provider's retry window
# An erased contact is a tombstone: a message read before the erasure and written after it must
# not add a case or an address to it (its transaction fails, and intake re-plans on a fresh one).
NOT_ERASED = "attribute_exists(pk) AND attribute_not_exists(erased_at)"


class DynamoInbound(StoreBase):
    def find_identity(self, identity: Identity) -> IdentityRecord | None:
        item = self._get(identity_key(identity))
        return _identity(identity, item) if item else None

    def find_open_case(self, contact_id: str) -> str | None:
        item = self._get(open_case_key(contact_id))
        return item["case_id"] if item else None

    def find_delivery(self, provider: str, provider_id: str) -> Delivery | None:
        item = self._get(dedupe_key(provider, provider_id))
        return _delivery(item) if item else None

    def mail_reads(self, message: InboundMessage, message_ids: tuple[str, ...]) -> MailReads:
        """One BatchGetItem, consistent like the single reads it replaces. The case a reply
        address names may have closed: the transaction that appends to it checks (a closed
        case there means: treat as a new message)."""
        assert message.email is not None
        sender, token = message.sender, message.email.reply_token
        wanted = {
            "delivery": dedupe_key(message.provider, message.provider_id),
            "identity": identity_key(sender),
        }
        if token:
            wanted["token"] = mail_token_key(token)
        for message_id in message_ids:
            wanted[f"id:{message_id}"] = message_id_key(message_id)
        role = {(key["pk"], key["sk"]): name for name, key in wanted.items()}
        found = {role[item["pk"], item["sk"]]: item for item in self._batch_get([*wanted.values()])}
        refs = {
            name: CaseRef(item["case_id"], "", None, item["contact_id"])
            for name, item in found.items()
            if name == "token" or name.startswith("id:")
        }
        return MailReads(
            delivery=_delivery(found["delivery"]) if "delivery" in found else None,
            identity=_identity(sender, found["identity"]) if "identity" in found else None,
            by_token=refs.get("token"),
            by_message_id={
                name.removeprefix("id:"): ref for name, ref in refs.items() if name != "token"
            },
        )

    def index_message_id(self, message_id: str, case_id: str, contact_id: str) -> None:
        self._put(
            {
                **message_id_key(message_id),
                "type": "message_id",
                "case_id": case_id,
                "contact_id": contact_id,
            }
        )

    def confirm_link(self, source: Case, target: Case, note: Interaction) -> None:
        """One transaction: the source case's email address (if its own contact's) moves to the
        target's contact and becomes the target case's reply address; the target's contact
        lists the source case (export and erasure reach it); the mark becomes `linked_to`; a
        note on the target's timeline. Raises CaseChanged when either case moved on meanwhile
        (the mark was confirmed or dismissed, the target closed)."""
        assert source.possible_link is not None
        t = self.table
        ops: list[tuple[str, dict[str, Any]]] = [
            (
                "source",
                update(
                    t,
                    case_key(source.id),
                    "SET linked_to = :target REMOVE possible_link",
                    {":target": target.id},
                    "possible_link.case_id = :target",
                ),
            ),
            ("note", put(t, {**interaction_item(note), "contact_id": target.contact_id})),
        ]
        address = source.reply_to if source.reply_to and source.reply_to.kind == "email" else None
        held = self._get(identity_key(address)) if address else None
        moves = address is not None and held is not None and held["contact_id"] == source.contact_id
        target_sets = ["cases = list_append(if_not_exists(cases, :none), :case)"]
        target_values: dict[str, Any] = {":none": [], ":case": [source.id]}
        case_sets = "SET last_activity_at = last_activity_at"
        case_values: dict[str, Any] = {":closed": "closed"}
        if moves:
            assert address is not None
            name = f"{address.kind}#{address.value}"
            ops.append(
                (
                    "identity",
                    update(
                        t,
                        identity_key(address),
                        "SET contact_id = :to, open_case_id = :case",
                        {":to": target.contact_id, ":case": target.id, ":from": source.contact_id},
                        "contact_id = :from",
                    ),
                )
            )
            old = self._get(contact_key(source.contact_id)) or {}
            ops.append(
                (
                    "old_contact",
                    update(
                        t,
                        contact_key(source.contact_id),
                        "SET identities = :left",
                        {":left": [i for i in old.get("identities", []) if i != name]},
                        "attribute_exists(pk)",
                    ),
                )
            )
            target_sets.append("identities = list_append(if_not_exists(identities, :none), :new)")
            target_values[":new"] = [name]
            case_sets = "SET reply_to = :reply_to"
            case_values[":reply_to"] = {"kind": address.kind, "value": address.value}
        ops.append(
            (
                "target_contact",
                update(
                    t,
                    contact_key(target.contact_id),
                    "SET " + ", ".join(target_sets),
                    target_values,
                    "attribute_exists(pk)",
                ),
            )
        )
        ops.append(
            (
                "target",
                update(
                    t,
                    case_key(target.id),
                    case_sets,
                    case_values,
                    "attribute_exists(pk) AND #status <> :closed",
                    {"#status": "status"},
                ),
            )
        )
        try:
            self._transact(ops)
        except Cancelled as lost:
            raise (CaseChanged if lost.failed else WriteConflict)(str(lost)) from lost

    def dismiss_link(self, case_id: str, target_id: str) -> None:
        """The mark goes; nothing else changes (one conditional UpdateItem: a transaction of one
        write would only cost twice). CaseChanged when it was already handled."""
        condition = "possible_link.case_id = :target"
        if not self._update(
            case_key(case_id), "REMOVE possible_link", {":target": target_id}, condition
        ):
            raise CaseChanged(case_id)

    def mark_undeliverable(self, identity: Identity, reason: str) -> bool:
        fields = {"undeliverable": reason}
        return self._set_fields(identity_key(identity), fields, "attribute_exists(pk)") is not None

    def last_practitioner(self, contact_id: str) -> str | None:
        item = self._get(contact_key(contact_id))
        return item.get("last_practitioner_id") if item else None

    def contact_language(self, contact_id: str) -> str | None:
        item = self._get(contact_key(contact_id))
        return item.get("language") if item else None

    def set_contact_language(self, contact_id: str, language: str) -> bool:
        fields = {"language": language}
        return self._set_fields(contact_key(contact_id), fields, NOT_ERASED) is not None

    def record_inbound(self, write: InboundWrite) -> None:
        """One transaction: identity, contact, case, interactions and the provider's dedupe item."""
        inbound = write.interactions[0]
        now = iso(inbound.at)
        reply_to = {"kind": write.identity.kind, "value": write.identity.value}
        booked = write.opening is not None and write.opening.channel == "webinar"
        t = self.table
        ops: list[tuple[str, dict[str, Any]]] = []
        identity_item = {  # for a new contact, or a new address of a known one
            **identity_key(write.identity),
            "type": "identity",
            "kind": write.identity.kind,
            "value": write.identity.value,
            "contact_id": write.contact_id,
            "open_case_id": write.case_id,
            "opted_out": bool(write.opted_out),
            "open_case_booked": booked or None,
            "created_at": now,
        }
        if write.new_contact:
            ops.append(("identity", put(t, identity_item)))
            ops.append(
                (
                    "contact",
                    put(
                        t,
                        {
                            **contact_key(write.contact_id),
                            "type": "contact",
                            "id": write.contact_id,
                            "created_at": now,
                            "identities": [f"{write.identity.kind}#{write.identity.value}"],
                            "cases": [write.case_id],
                            "language": write.contact_language,
                        },
                    ),
                )
            )
        elif write.new_identity:
            ops.append(("identity", put(t, identity_item)))
        elif write.link_identity or write.opted_out is not None:
            changes: list[str] = []
            known: dict[str, Any] = {":cid": write.contact_id}
            if write.link_identity:
                changes.append("open_case_id = :case, open_case_booked = :booked")
                known.update({":case": write.case_id, ":booked": booked})
            if write.opted_out is not None:
                changes.append("opted_out = :out")
                known[":out"] = write.opted_out
            ops.append(
                (
                    "identity",
                    update(
                        t,
                        identity_key(write.identity),
                        "SET " + ", ".join(changes),
                        known,
                        "contact_id = :cid",
                    ),
                )
            )
        if not write.new_contact and (contact := _contact_changes(write)):
            expression, values, names = contact
            key = contact_key(write.contact_id)
            ops.append(("contact", update(t, key, expression, values, NOT_ERASED, names)))
        if write.opening is not None:
            ops.append(
                (
                    "open_case",
                    put(
                        t,
                        {
                            **open_case_key(write.contact_id),
                            "type": "open_case",
                            "case_id": write.case_id,
                        },
                    ),
                )
            )
            item = new_case_item(write.opening, reply_to, inbound.at, self.open_shards)
            if not booked:
                item.update(preview=preview_of(inbound.body), last_inbound_channel=inbound.channel)
            if inbound.email is not None:
                item.update(
                    email_subject=inbound.email.subject,
                    email_thread=[inbound.email.message_id] if inbound.email.message_id else None,
                    possible_link=_link(inbound.email.possible_link),
                )
            ops.append(("case", put(t, item)))
            if not booked:  # in the managers' inbox from now: its shard counts one more
                ops.append(("count", open_count(t, write.case_id, self.open_shards, 1)))
            ops.append(
                (
                    "token",
                    put(
                        t,
                        {
                            **mail_token_key(write.opening.reply_token),
                            "type": "mail_token",
                            "case_id": write.case_id,
                            "contact_id": write.contact_id,
                        },
                    ),
                )
            )
        else:
            expression = (
                "SET last_activity_at = :at, gsi1sk = :at, reply_to = :reply_to, "
                "last_inbound_at = :at"
            )
            values = {
                ":at": now,
                ":reply_to": reply_to,
                ":one": 1,
                ":closed": "closed",
                ":channel": {inbound.channel},
            }
            if inbound.email is not None and inbound.email.message_id:
                expression += (
                    ", email_thread = list_append(if_not_exists(email_thread, :none), :ids)"
                    ", email_subject = if_not_exists(email_subject, :subject)"
                )
                values.update(
                    {
                        ":none": [],
                        ":ids": [inbound.email.message_id],
                        ":subject": inbound.email.subject,
                    }
                )
            if inbound.channel != "webinar":  # a booking is no question: nothing to answer
                expression += (
                    ", preview = :preview, last_inbound_channel = :last_channel"
                    ", waiting_since = if_not_exists(waiting_since, :at)"
                )
                values.update(
                    {":preview": preview_of(inbound.body), ":last_channel": inbound.channel}
                )
            if inbound.email is not None and inbound.email.possible_link:
                expression += ", possible_link = :link"
                values[":link"] = _link(inbound.email.possible_link)
            ops.append(
                (
                    "case",
                    update(
                        t,
                        case_key(write.case_id),
                        expression + " ADD inbound_count :one, channels :channel",
                        values,
                        "attribute_exists(pk) AND #status <> :closed",
                        {"#status": "status"},
                    ),
                )
            )
        if inbound.email is not None and inbound.email.message_id and inbound.email.new_message_id:
            # Indexed so that replies find their case by In-Reply-To / References; an id another
            # message holds already is not indexed again (mail.py found it), so a sender cannot
            # repoint it.
            ops.append(
                (
                    "message_id",
                    put(
                        t,
                        {
                            **message_id_key(inbound.email.message_id),
                            "type": "message_id",
                            "case_id": write.case_id,
                            "contact_id": write.contact_id,
                        },
                        condition=None,  # a concurrent first use: the later one points
                    ),
                )
            )
        for interaction in write.interactions:
            # the contact id lets a weekly report count unique citizens without reading contacts
            item = {**interaction_item(interaction), "contact_id": write.contact_id}
            ops.append(("interaction", put(t, item)))
        ops.append(
            (
                "dedupe",
                put(
                    t,
                    {
                        **dedupe_key(write.provider, write.provider_id),
                        "type": "dedupe",
                        "case_id": write.case_id,
                        "interaction_id": inbound.id,
                        "reply": write.reply,
                        "reply_ref": write.reply_ref,
                        "expires_at": int((inbound.at + timedelta(days=DEDUPE_DAYS)).timestamp()),
                    },
                ),
            )
        )
        if write.booking is not None:
            ops += booking_ops(t, write.booking, write.case_id, write.contact_id)
        try:
            self._transact(ops)
        except Cancelled as lost:
            if "webinar" in lost.failed:
                raise SessionUnavailable("webinar") from lost
            for role in BOOKING_ROLES:  # the person's own limits, checked after the seat's
                if role in lost.failed:
                    raise BookingRefused(role) from lost
            for role, error in (
                ("dedupe", DuplicateDelivery),
                ("identity", IdentityTaken),
                ("open_case", OpenCaseExists),
                ("case", CaseNotOpen),  # before "contact": an erased thread's case is closed too
                ("contact", IdentityTaken),  # erased meanwhile: re-reading finds no identity
            ):
                if role in lost.failed:
                    raise error(role) from lost
            raise WriteConflict(str(lost)) from lost

    def promote_booked(self, case_id: str, identity: Identity, at: datetime) -> CaseRef | None:
        """The citizen wrote on a case that held bookings only: from now on it waits in its
        queue (since `at`) and shows in the inbox. None when it was a case to answer already
        (another message promoted it); either way the identity's mark goes."""
        now = iso(at)
        item: dict[str, Any] | None = None
        for _ in range(3):  # lost to a change of its risk meanwhile: placed again
            place, risk, held = waiting_place(self._get(case_key(case_id)), case_id, now)
            promote = update(
                self.table,
                case_key(case_id),
                "SET gsi1pk = :inbox, gsi1sk = :at, gsi3pk = booked_waiting, gsi3sk = :since, "
                "gsi4pk = booked_inbox, gsi4sk = :since, queued_at = :at "
                "REMOVE booked_only, booked_waiting, booked_inbox",
                {
                    **held,
                    ":inbox": open_key(case_id, self.open_shards),
                    ":at": now,
                    ":since": place,  # first in its queue if its first words were high risk
                    ":yes": True,
                    ":queued": "queued",
                },
                f"booked_only = :yes AND #status = :queued AND {risk}",
                {"#status": "status"},
            )
            try:  # with its shard's count of open cases
                self._transact(
                    [
                        ("case", promote),
                        ("count", open_count(self.table, case_id, self.open_shards, 1)),
                    ]
                )
                item = self._get(case_key(case_id))
                break
            except Cancelled as lost:
                if "case" not in lost.failed:
                    raise WriteConflict(str(lost)) from lost
                fresh = self._get(case_key(case_id))
                if fresh is None or not fresh.get("booked_only") or fresh["status"] != "queued":
                    break  # a case to answer already
        self._update(
            identity_key(identity),
            "REMOVE open_case_booked",
            {":case": case_id},
            "open_case_id = :case",
        )
        return case_ref(item) if item else None


def _contact_changes(
    write: InboundWrite,
) -> tuple[str, dict[str, Any], dict[str, str] | None] | None:
    """What a message changes on a known contact, as one update (a transaction may touch an item
    once): a new address, a new case (export and erasure find everything from the contact's
    lists), its language."""
    changes: list[str] = []
    values: dict[str, Any] = {}
    names = None
    if write.new_identity:
        changes.append("identities = list_append(if_not_exists(identities, :none), :new)")
        values[":new"] = [f"{write.identity.kind}#{write.identity.value}"]
    if write.opening is not None:
        changes.append("cases = list_append(if_not_exists(cases, :none), :case)")
        values[":case"] = [write.case_id]
    if write.contact_language is not None:
        changes.append("#language = :language")
        values[":language"] = write.contact_language
        names = {"#language": "language"}  # a reserved word
    if ":new" in values or ":case" in values:
        values[":none"] = []
    return ("SET " + ", ".join(changes), values, names) if changes else None


def _identity(identity: Identity, item: dict[str, Any]) -> IdentityRecord:
    return IdentityRecord(
        identity=identity,
        contact_id=item["contact_id"],
        open_case_id=item.get("open_case_id"),
        opted_out=bool(item.get("opted_out", False)),
        undeliverable=item.get("undeliverable"),
        open_case_booked=bool(item.get("open_case_booked", False)),
    )


def _delivery(item: dict[str, Any]) -> Delivery:
    """An erased contact's message leaves a tombstone with no case: answered with nothing."""
    return Delivery(
        item.get("case_id", ""),
        item.get("reply"),
        item.get("reply_ref"),
        item.get("interaction_id"),
    )


def _link(link: tuple[str, str] | None) -> dict[str, str] | None:
    return {"case_id": link[0], "reason": link[1]} if link else None
