"""A practitioner's `active_cases` is the number of open cases assigned to them, whatever
happens to the cases: random sequences of what citizens, practitioners, managers and the
schedules do, against DynamoDB Local."""

from __future__ import annotations

import itertools
import secrets
from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chalicelib.domain import casework, intake, privacy, routing, staffing, voice, webinars
from chalicelib.domain.errors import ServiceError
from chalicelib.domain.hours import demo_hours
from chalicelib.domain.model import Actor, Identity, InboundMessage, Practitioner, Webinar
from tests.conftest import deps_of

HOURS = demo_hours()
BOSS = Actor("boss", "manager")
PEOPLE = 3
CITIZENS = 4
OPERATIONS = st.lists(
    st.tuples(
        st.sampled_from(
            (
                "sms",
                "call",
                "book",
                "claim",
                "to_queue",
                "to_practitioner",
                "close",
                "reopen",
                "requeue",
                "duty",
                "erase",
            )
        ),
        st.integers(0, CITIZENS - 1),
        st.integers(0, PEOPLE - 1),
    ),
    min_size=1,
    max_size=25,
)


class World:
    """One example's practitioners, citizens and session, under ids of its own (the table is
    shared by the examples)."""

    def __init__(self, store, clock) -> None:
        self.store, self.clock = store, clock
        self.tag = secrets.token_hex(3)
        self.people = [f"p{self.tag}{i}" for i in range(PEOPLE)]
        self.numbers = [f"+4532{int(self.tag, 16) % 10000:04d}{i:02d}" for i in range(CITIZENS)]
        self.queue = f"q{self.tag}"
        self.cases: set[str] = set()
        self.contacts: dict[int, str] = {}
        self.sids = itertools.count()
        for pid in self.people:
            store.create_practitioner(Practitioner(pid, pid, (self.queue,), ("da",), 2))
            staffing.set_duty(self.deps(), Actor(pid, "practitioner"), True)
        self.webinar = Webinar(
            f"w{self.tag}",
            "Choosing an education",
            clock.at + timedelta(days=2),
            60,
            25,
            5,
            self.queue,
            "https://meet.example.org/w",
        )
        store.create_webinar(self.webinar)

    def deps(self):
        return deps_of(self.store, self.clock, hours=HOURS)

    def case_of(self, citizen: int) -> str | None:
        record = self.store.find_identity(Identity("phone", self.numbers[citizen]))
        return record.open_case_id if record else None

    def do(self, operation: str, citizen: int, person: int) -> None:
        deps, pid = self.deps(), self.people[person]
        number = self.numbers[citizen]
        if operation == "sms":
            sid = f"SM{self.tag}{next(self.sids):026x}"
            message = InboundMessage(
                "sms",
                "twilio",
                sid,
                Identity("phone", number),
                "+4570203040",
                "hello",
                queue=self.queue,
            )
            outcome = intake.receive(deps, message)
            self.cases.add(outcome.case_id)
            self.contacts[citizen] = self.store.find_identity(Identity("phone", number)).contact_id
        elif operation == "call":
            sid = f"CA{self.tag}{next(self.sids):026x}"
            message = InboundMessage(
                "voice", "twilio", sid, Identity("phone", number), "+4570203040", "Call"
            )
            call = voice.answer(deps, message).call
            self.cases.add(call.case_id)
            voice.choose_topic(call, "1", 1, self.store, self.clock())
        elif operation == "book":
            booked = webinars.book(deps, self.webinar, {"phone": number, "consent": True})
            if booked.booking is not None and booked.booking.case_id:
                self.cases.add(booked.booking.case_id)
                record = self.store.find_identity(Identity("phone", number))
                self.contacts[citizen] = record.contact_id
        elif operation == "requeue":
            routing.requeue_unanswered(deps, after=timedelta(0))
        elif operation == "duty":
            on = not self.store.get_practitioner(pid).on_duty
            staffing.set_duty(deps, Actor(pid, "practitioner"), on)
        elif operation == "erase" and citizen in self.contacts:
            privacy.erase(deps, self.contacts.pop(citizen), "boss")
        else:
            self._casework(operation, citizen, pid)

    def _casework(self, operation: str, citizen: int, pid: str) -> None:
        case_id = self.case_of(citizen) or (
            sorted(self.cases)[citizen % len(self.cases)] if self.cases else None
        )
        if case_id is None:
            return
        deps = self.deps()
        if operation == "claim":
            casework.claim(deps, case_id, Actor(pid, "practitioner"))
        elif operation == "to_queue":
            casework.transfer(deps, case_id, BOSS, queue=self.queue)
        elif operation == "to_practitioner":
            casework.transfer(deps, case_id, BOSS, practitioner_id=pid)
        elif operation == "close":
            case = self.store.get_case(case_id, with_timeline=True)
            casework.close(deps, case_id, BOSS, "answered", seen=case.timeline[-1].id)
        elif operation == "reopen":
            casework.reopen(deps, case_id, BOSS)

    def check(self) -> None:
        held = {pid: 0 for pid in self.people}
        for case_id in self.cases:
            case = self.store.get_case(case_id)
            if case is not None and case.status != "closed" and case.assignee in held:
                held[case.assignee] += 1
        counted = {pid: self.store.get_practitioner(pid).active_cases for pid in self.people}
        assert counted == held


@settings(
    max_examples=20,
    derandomize=True,  # the same sequences on every run; a failure is reproducible
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(operations=OPERATIONS)
def test_active_cases_is_the_number_of_open_cases_held(store, clock, operations):
    world = World(store, clock)
    for operation, citizen, person in operations:
        try:
            world.do(operation, citizen, person)
        except ServiceError:
            pass  # refused (not claimable, at capacity, closed...): changes nothing
        world.check()
