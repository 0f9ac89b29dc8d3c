"""Storage for webinars: sessions, bookings, the waitlist, and reminders sent once.

Seats are counted in DynamoDB, not in Python: a seat is taken by a conditional ADD on the session
(`seats_taken < capacity`) in the same transaction as the booking; a cancelled seat passes to the
first waitlisted booking in one transaction too. The person's own limits are items of that
transaction as well: a holder item per (session, person) that only a cancellation releases, a map of
their upcoming sessions (`size(sessions) < max`) and a counter of booking messages per day; the
person is named by a digest, never by their address or number.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from chalicelib.adapters.dynamodb.base import Cancelled, StoreBase, put, update
from chalicelib.adapters.dynamodb.codec import dump, iso, load, parse_iso
from chalicelib.domain.errors import CaseChanged, WriteConflict
from chalicelib.domain.model import Booking, BookingPlan, Webinar

WEBINARS = "WEBINARS"
EDITABLE = (
    "title",
    "description",
    "queue",
    "starts_at",
    "duration_minutes",
    "capacity",
    "waitlist_size",
    "join_url",
    "host",
)


def webinar_key(webinar_id: str) -> dict[str, str]:
    return {"pk": f"WEBINAR#{webinar_id}", "sk": "WEBINAR"}


def booking_key(webinar_id: str, booking_id: str) -> dict[str, str]:
    return {"pk": f"WEBINAR#{webinar_id}", "sk": f"BOOKING#{booking_id}"}


def token_key(token_hash: str) -> dict[str, str]:
    return {"pk": f"BOOKINGTOKEN#{token_hash}", "sk": "BOOKINGTOKEN"}


def holder_key(webinar_id: str, holder: str) -> dict[str, str]:
    """Held while this person has a live booking of the session (whatever its id)."""
    return {"pk": f"WEBINAR#{webinar_id}", "sk": f"HOLDER#{holder}"}


def booker_key(booker: str) -> dict[str, str]:
    """The person's live bookings: `active` counts them, `s_<session id>` holds each one's end
    (so sessions that have ended can be found and no longer counted)."""
    return {"pk": f"BOOKER#{booker}", "sk": "ACTIVE"}


def session_attribute(webinar_id: str) -> str:
    return f"s_{webinar_id}"


def booker_day_key(booker: str, at: datetime) -> dict[str, str]:
    """How many booking messages went to the person on one UTC day."""
    return {"pk": f"BOOKER#{booker}", "sk": f"DAY#{iso(at)[:10]}"}


BOOKING_ROLES = ("holder", "limit", "rate")  # checked in this order after the seat


def rate_op(table: str, booker: str, at: datetime, most: int) -> dict[str, Any]:
    """One more booking message today, only below `most`; the counter expires after two days."""
    return update(
        table,
        booker_day_key(booker, at),
        "ADD sent :one SET expires_at = :expires, #type = :type",
        {
            ":one": 1,
            ":most": most,
            ":expires": int(at.timestamp()) + 2 * 86400,
            ":type": "booker_day",
        },
        "attribute_not_exists(sent) OR sent < :most",
        {"#type": "type"},
    )


def waitlist_key(webinar_id: str) -> str:
    return f"WAITLIST#{webinar_id}"


def webinar_item(w: Webinar) -> dict[str, Any]:
    return {
        **webinar_key(w.id),
        "type": "webinar",
        "id": w.id,
        "title": w.title,
        "description": w.description or None,
        "queue": w.queue,
        "starts_at": iso(w.starts_at),
        "duration_minutes": w.duration_minutes,
        "capacity": w.capacity,
        "waitlist_size": w.waitlist_size,
        "seats_taken": w.seats_taken,
        "waitlist_taken": w.waitlist_taken,
        "join_url": w.join_url,
        "host": w.host,
        "status": w.status,
        "gsi1pk": WEBINARS,
        "gsi1sk": iso(w.starts_at),
    }


def webinar_from(item: dict[str, Any]) -> Webinar:
    return Webinar(
        id=item["id"],
        title=item["title"],
        starts_at=parse_iso(item["starts_at"]),  # type: ignore[arg-type]  # always set
        duration_minutes=int(item["duration_minutes"]),
        capacity=int(item["capacity"]),
        waitlist_size=int(item["waitlist_size"]),
        queue=item["queue"],
        join_url=item["join_url"],
        description=item.get("description", ""),
        host=item.get("host"),
        status=item.get("status", "scheduled"),
        seats_taken=int(item.get("seats_taken", 0)),
        waitlist_taken=int(item.get("waitlist_taken", 0)),
    )


def booking_from(item: dict[str, Any]) -> Booking:
    return Booking(
        webinar_id=item["webinar_id"],
        id=item["id"],
        status=item["status"],
        email=item.get("email"),
        phone=item.get("phone"),
        first_name=item.get("first_name"),
        created_at=parse_iso(item["created_at"]),  # type: ignore[arg-type]  # always set
        case_id=item.get("case_id"),
        contact_id=item.get("contact_id"),
        waitlisted_at=item.get("gsi3sk") or item.get("waitlisted_at"),
        attended=item.get("attended"),
        holder=item.get("holder"),
        booker=item.get("booker"),
        language=item.get("language"),
    )


def booking_ops(
    table: str, plan: BookingPlan, case_id: str, contact_id: str
) -> list[tuple[str, dict[str, Any]]]:
    """The seat (or waitlist place), the booking and its cancel token, for intake's transaction."""
    now = iso(plan.at)
    counter, room = (
        ("seats_taken", "seats_taken < #capacity")
        if plan.mode == "seat"
        else ("waitlist_taken", "seats_taken >= #capacity AND waitlist_taken < waitlist_size")
    )
    take = update(
        table,
        webinar_key(plan.webinar_id),
        f"ADD {counter} :one",
        {":one": 1, ":scheduled": "scheduled", ":now": now},
        f"#status = :scheduled AND starts_at > :now AND {room}",
        {"#status": "status", "#capacity": "capacity"},
    )
    status = "confirmed" if plan.mode == "seat" else "waitlisted"
    booking = {
        **booking_key(plan.webinar_id, plan.booking_id),
        "type": "booking",
        "id": plan.booking_id,
        "webinar_id": plan.webinar_id,
        "status": status,
        "email": plan.email,
        "phone": plan.phone,
        "first_name": plan.first_name,
        "created_at": now,
        "token_hash": plan.token_hash,
        "case_id": case_id,
        "contact_id": contact_id,
        "holder": plan.holder,
        "booker": plan.booker,
        "language": plan.language,
    }
    if plan.mode == "waitlist":  # the waitlist in arrival order (sparse gsi3)
        booking.update(gsi3pk=waitlist_key(plan.webinar_id), gsi3sk=f"{now}#{plan.booking_id}")
    return [
        ("webinar", take),
        ("booking", put(table, booking)),
        (
            "token",
            put(
                table,
                {
                    **token_key(plan.token_hash),
                    "type": "booking_token",
                    "webinar_id": plan.webinar_id,
                    "booking_id": plan.booking_id,
                },
            ),
        ),
        (
            "holder",
            put(
                table,
                {
                    **holder_key(plan.webinar_id, plan.holder),
                    "type": "booking_holder",
                    "booking_id": plan.booking_id,
                },
            ),
        ),
        (
            "limit",
            update(
                table,
                booker_key(plan.booker),
                "ADD active :one SET #session = :ends, #type = :type",
                {
                    ":one": 1,
                    ":ends": iso(plan.ends_at or plan.at),
                    ":most": plan.max_active,
                    ":type": "booker",
                },
                "attribute_not_exists(active) OR active < :most",
                {"#session": session_attribute(plan.webinar_id), "#type": "type"},
            ),
        ),
        ("rate", rate_op(table, plan.booker, plan.at, plan.max_per_day)),
        *(("rate", rate_op(table, other, plan.at, plan.max_per_day)) for other in plan.also_told),
    ]


class DynamoWebinars(StoreBase):
    def create_webinar(self, webinar: Webinar) -> bool:
        return self._put_new(webinar_item(webinar))

    def get_webinar(self, webinar_id: str) -> Webinar | None:
        return self._get_as(webinar_key(webinar_id), webinar_from)

    def update_webinar(self, webinar_id: str, changes: dict[str, Any]) -> Webinar | None:
        fields = {k: v for k, v in changes.items() if k in EDITABLE}
        if "starts_at" in fields:
            fields["starts_at"] = iso(fields["starts_at"])
            fields["gsi1sk"] = fields["starts_at"]
        if not fields:
            return self.get_webinar(webinar_id)
        item = self._set_fields(
            webinar_key(webinar_id),
            fields,
            "attribute_exists(pk) AND #status = :scheduled",
            {":scheduled": "scheduled"},
            {"#status": "status"},
        )
        return webinar_from(item) if item else None

    def cancel_webinar(self, webinar_id: str) -> bool:
        return self._update(
            webinar_key(webinar_id),
            "SET #status = :cancelled",
            {":cancelled": "cancelled", ":scheduled": "scheduled"},
            "#status = :scheduled",
            {"#status": "status"},
        )

    def webinars_between(self, start: datetime, end: datetime) -> list[Webinar]:
        items = self._query_all(
            IndexName="gsi1",
            KeyConditionExpression="gsi1pk = :p AND gsi1sk BETWEEN :a AND :b",
            ExpressionAttributeValues=dump({":p": WEBINARS, ":a": iso(start), ":b": iso(end)}),
        )
        return [webinar_from(i) for i in items]

    def bookings_of(self, webinar_id: str) -> list[Booking]:
        items = self._query_all(
            KeyConditionExpression="pk = :pk AND begins_with(sk, :b)",
            ExpressionAttributeValues=dump({":pk": f"WEBINAR#{webinar_id}", ":b": "BOOKING#"}),
            ConsistentRead=True,
        )
        return [booking_from(i) for i in items]

    def get_booking(self, webinar_id: str, booking_id: str) -> Booking | None:
        return self._get_as(booking_key(webinar_id, booking_id), booking_from)

    def booking_for_token(self, token_hash: str) -> Booking | None:
        item = self._get(token_key(token_hash))
        return self.get_booking(item["webinar_id"], item["booking_id"]) if item else None

    def recount_booker(self, booker: str, now: datetime) -> bool:
        """When the person seems to be at their limit: sessions that have ended stop counting,
        and `active` is set to the sessions still live (one conditional write, so a booking
        racing it makes it fail and the caller decides again). True if that freed a place."""
        item = self._get(booker_key(booker))
        if item is None:
            return False
        booked = {k: v for k, v in item.items() if k.startswith("s_")}
        ended = [k for k, ends in booked.items() if ends <= iso(now)][:50]
        live = len(booked) - len(ended)
        if live >= int(item.get("active", 0)):
            return False
        expression = "SET active = :live" + (
            " REMOVE " + ", ".join(f"#e{i}" for i in range(len(ended))) if ended else ""
        )
        self._update(  # when it changed meanwhile, that too is worth another try
            booker_key(booker),
            expression,
            {":live": live, ":was": item.get("active", 0)},
            "active = :was",
            {f"#e{i}": k for i, k in enumerate(ended)},
        )
        return True

    def release_session(self, booker: str, webinar_id: str) -> None:
        """A cancelled booking no longer counts (once: only while its session is still listed;
        if this write is lost, `recount_booker` corrects the count)."""
        self._update(
            booker_key(booker),
            "REMOVE #session ADD active :minus",
            {":minus": -1},
            "attribute_exists(#session)",
            {"#session": session_attribute(webinar_id)},
        )

    def count_booking_message(self, booker: str, now: datetime, most: int) -> bool:
        """One more booking message to this person today; False once `most` were sent."""
        return self._unless_lost(
            self.client.update_item, rate_op(self.table, booker, now, most)["Update"]
        )

    def held_booking(self, webinar_id: str, holder: str) -> str | None:
        """The id of the live booking this person holds for the session, if any."""
        item = self._get(holder_key(webinar_id, holder))
        return item["booking_id"] if item else None

    def release_holder(self, webinar_id: str, holder: str, booking_id: str) -> None:
        """Free a holder whose booking is gone, cancelled or erased (only if still that one's)."""
        self._delete(holder_key(webinar_id, holder), "booking_id = :id", {":id": booking_id})

    def add_booking_token(self, booking: Booking, token_hash: str) -> None:
        """Another cancel link for a live booking, sent only to the booking's own address."""
        self._put_new(
            {
                **token_key(token_hash),
                "type": "booking_token",
                "webinar_id": booking.webinar_id,
                "booking_id": booking.id,
            }
        )

    def waitlist(self, webinar_id: str, limit: int | None = None) -> list[Booking]:
        """Waitlisted bookings in arrival order."""
        kwargs: dict[str, Any] = {
            "IndexName": "gsi3",
            "KeyConditionExpression": "gsi3pk = :p",
            "ExpressionAttributeValues": dump({":p": waitlist_key(webinar_id)}),
        }
        if limit:
            page = self.client.query(TableName=self.table, Limit=limit, **kwargs)
            items = [load(i) for i in page.get("Items", [])]
        else:
            items = self._query_all(**kwargs)
        return [
            Booking(
                i.get("webinar_id", webinar_id),
                i.get("id") or i["sk"][8:],
                "waitlisted",
                None,
                None,
                None,
                parse_iso(i["gsi3sk"].split("#")[0]),  # type: ignore[arg-type]  # always set
                waitlisted_at=i["gsi3sk"],
            )
            for i in items
        ]

    def waitlist_position(self, webinar_id: str, waitlisted_at: str) -> int:
        page = self.client.query(
            TableName=self.table,
            IndexName="gsi3",
            Select="COUNT",
            KeyConditionExpression="gsi3pk = :p AND gsi3sk <= :me",
            ExpressionAttributeValues=dump({":p": waitlist_key(webinar_id), ":me": waitlisted_at}),
        )
        return int(page["Count"])

    def cancel_booking(self, booking: Booking, promote: Booking | None, now: datetime) -> None:
        """Cancel; a confirmed seat passes to `promote` (the first waitlisted) atomically."""
        key = booking_key(booking.webinar_id, booking.id)
        ops = [
            (
                "booking",
                update(
                    self.table,
                    key,
                    "SET #status = :cancelled, cancelled_at = :now REMOVE gsi3pk, gsi3sk",
                    {":cancelled": "cancelled", ":now": iso(now), ":was": booking.status},
                    "#status = :was",
                    {"#status": "status"},
                ),
            )
        ]
        if booking.holder:  # the person may book this session again
            ops.append(
                (
                    "holder",
                    {
                        "Delete": {
                            "TableName": self.table,
                            "Key": dump(holder_key(booking.webinar_id, booking.holder)),
                            "ConditionExpression": "attribute_not_exists(pk) OR booking_id = :id",
                            "ExpressionAttributeValues": dump({":id": booking.id}),
                        }
                    },
                )
            )
        session = webinar_key(booking.webinar_id)
        if booking.status == "waitlisted":
            ops.append(
                (
                    "webinar",
                    update(self.table, session, "ADD waitlist_taken :minus", {":minus": -1}),
                )
            )
        elif promote is not None:
            ops.append(
                (
                    "promoted",
                    update(
                        self.table,
                        booking_key(promote.webinar_id, promote.id),
                        "SET #status = :confirmed, promoted_at = :now REMOVE gsi3pk, gsi3sk",
                        {":confirmed": "confirmed", ":now": iso(now), ":waitlisted": "waitlisted"},
                        "#status = :waitlisted",
                        {"#status": "status"},
                    ),
                )
            )
            ops.append(
                (
                    "webinar",
                    update(self.table, session, "ADD waitlist_taken :minus", {":minus": -1}),
                )
            )
        else:
            ops.append(
                ("webinar", update(self.table, session, "ADD seats_taken :minus", {":minus": -1}))
            )
        try:
            self._transact(ops)
        except Cancelled as lost:
            if lost.failed:
                raise CaseChanged(", ".join(sorted(lost.failed))) from lost
            raise WriteConflict("conflict") from lost

    def mark_reminded(self, booking: Booking, which: str, now: datetime) -> bool:
        """True only for the one run that claims this reminder: each is sent exactly once."""
        return self._update(
            booking_key(booking.webinar_id, booking.id),
            f"SET reminded_{which} = :now",
            {":now": iso(now), ":c": "confirmed"},
            f"attribute_not_exists(reminded_{which}) AND #status = :c",
            {"#status": "status"},
        )

    def set_attendance(self, booking: Booking, attended: bool) -> None:
        self.client.update_item(
            TableName=self.table,
            Key=dump(booking_key(booking.webinar_id, booking.id)),
            UpdateExpression="SET attended = :a",
            ExpressionAttributeValues=dump({":a": attended}),
        )
