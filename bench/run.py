"""`make bench`: the figures the issues ask for, printed as one table.

- cold init: `import app` in a fresh interpreter against the floor `import chalice, boto3`
  (median CPU time of many runs each, to the end of the imports, and their ratio);
- DynamoDB requests per operation, counted through botocore's event hooks against DynamoDB Local.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402

from chalicelib.adapters.blobs import LocalBlobs  # noqa: E402
from chalicelib.adapters.dynamodb import DynamoStore  # noqa: E402
from chalicelib.adapters.senders import LocalDialer, LocalMailOutbox, LocalOutbox  # noqa: E402
from chalicelib.channels import email_mime  # noqa: E402
from chalicelib.channels.twilio_sms import parse_inbound  # noqa: E402
from chalicelib.channels.twilio_voice import parse_call  # noqa: E402
from chalicelib.config import load_settings  # noqa: E402
from chalicelib.domain import casework, intake, mail, staffing, voice, webinars  # noqa: E402
from chalicelib.domain.model import Actor, CaseRef, Identity  # noqa: E402
from chalicelib.wiring import Services  # noqa: E402
from scripts.call import call_fields  # noqa: E402
from scripts.localdb import DynamoDBLocal, create_table, use_local_credentials  # noqa: E402
from scripts.seed import seed  # noqa: E402
from scripts.sms import twilio_sms_form  # noqa: E402

RUNS = 31  # runs of each import statement: their medians hold to about +-0.01x of the ratio
# What the first SMS webhook of a cold container imports, beyond `import app`.
SMS_PATH = (
    "import app, boto3, chalicelib.domain.intake, chalicelib.channels.twilio_sms, "
    "chalicelib.adapters.dynamodb, chalicelib.adapters.senders, twilio.request_validator, "
    "twilio.twiml.messaging_response"
)
EMAIL = (
    "From: bench@example.com\r\nTo: studyhelp@helpline.example.org\r\nSubject: Bench\r\n"
    "Message-ID: {mid}\r\n{extra}\r\nHello\r\n"
)
GOALS = {
    # One BatchGetItem (dedupe, sender, reply address, Message-IDs) and intake's transaction; the
    # acknowledgement's status is written after its send.
    "email, first of a new case (incl. acknowledgement status)": (
        "intake 2 (goal <= 2) + routing 1 + status after the send 1"
    ),
    "email, later on the open case (by sender)": "goal <= 2",
    "email, reply threaded by In-Reply-To": "goal <= 2",
    # The booking and its confirmation's record are one transaction (after the identity's read);
    # the provider's acceptance (its id, for the status callbacks; out of the outbox) can only
    # be written after the send, and the send only after the booking commits.
    "webinar booking, confirmed (new citizen)": "booking 2 (goal <= 2) + status after the send 1",
    "first SMS of a new citizen (warm; nobody on duty)": "intake 2 (goal <= 2) + routing 1",
    "later SMS on an open case": "goal <= 2",
    "inbox page (practitioner, profile read afresh)": "goal 1 + queues (profile in mine)",
    # the all-open view reads each shard of gsi1 once (INBOX_SHARDS, default 8), in parallel:
    # no single key takes every open-case write (docs/inbox.md)
    "inbox page (manager)": "goal 1 a shard",
    "call arrival, new caller": "goal <= 2",
    "call arrival, caller with an open case": "goal <= 2",
    "first SMS of a returning citizen (their case closed), routed": (
        "intake 6 (a stale shortcut costs 3; the contact's language 1), routing 3"
    ),
}


def import_times(*statements: str, finalized: bool = False) -> list[float]:
    """Median CPU time (user + system) of a fresh interpreter running each statement, minus the
    bare interpreter's. CPU time rather than wall time, and the statements' runs taken in turn:
    on a shared machine, waiting for a core is not what importing costs, and what the others do
    meanwhile then weighs on every statement alike, so the ratios to the floor hold still.

    Each ends with `os._exit(0)` unless `finalized`: a Lambda container is frozen after its init,
    never finalized, so the interpreter's teardown (a last garbage collection over everything
    imported: ~30 ms for the floor alone, ~10 ms more for our modules) is no part of a cold
    start. `finalized=True` measures with it, as this bench did before, for comparison."""
    end = "" if finalized else "\nimport os; os._exit(0)"

    def once(code: str) -> float:
        child = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
        _, status, usage = os.wait4(child.pid, 0)
        if status:
            raise subprocess.CalledProcessError(status, code)
        return usage.ru_utime + usage.ru_stime

    codes = tuple(code + end for code in ("pass", *statements))
    runs = [[once(code) for code in codes] for _ in range(RUNS)]
    bare, *medians = (statistics.median(run[n] for run in runs) for n in range(len(codes)))
    return [median - bare for median in medians]


class RequestCounter:
    """Counts every DynamoDB API call a client makes (botocore's before-call hook)."""

    def __init__(self, client: Any) -> None:
        self.calls: list[str] = []
        client.meta.events.register("before-call.dynamodb", self._count)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)

    def take(self) -> list[str]:
        calls, self.calls = self.calls, []
        return calls


def bench_services(
    endpoint: str, table: str, hours_cache: str, pool: int = 10, **clock: Any
) -> tuple[Any, DynamoStore, Services]:
    """A fresh table on DynamoDB Local (a client with `pool` connections) and services over it
    that send nothing anywhere; `clock=` fixes the time."""
    from botocore.config import Config

    client = boto3.client(
        "dynamodb",
        endpoint_url=endpoint,
        region_name="eu-west-1",
        config=Config(max_pool_connections=pool),
    )
    create_table(client, table)
    store = DynamoStore(client, table)
    services = Services(
        settings=load_settings({"TABLE_NAME": table, "HOURS_CACHE_SECONDS": hours_cache}),
        store=store,
        sms=LocalOutbox(),
        calls=LocalDialer(),
        mail=LocalMailOutbox(),
        blobs=LocalBlobs(Path(tempfile.mkdtemp())),
        **clock,
    )
    return client, store, services


def requests_per_sms(endpoint: str) -> dict[str, list[str]]:
    client, store, services = bench_services(endpoint, "bench-table", "60")
    seed(store, datetime.now(UTC))
    counter = RequestCounter(client)

    def sms(sender: str, body: str, sid: str) -> list[str]:
        counter.take()
        message = parse_inbound(twilio_sms_form(sender, body, sid))
        intake.receive(services, message)
        return counter.take()

    figures = {
        "first SMS of a new citizen (cold: hours read; nobody on duty)": sms(
            "+4520000001", "hi", "SM" + "1" * 32
        ),
        "first SMS of a new citizen (warm; nobody on duty)": sms(
            "+4520000002", "hi", "SM" + "2" * 32
        ),
        "later SMS on an open case": sms("+4520000002", "more", "SM" + "3" * 32),
        "Twilio retry of the same SMS": sms("+4520000002", "more", "SM" + "3" * 32),
    }

    def call(sender: str, sid: str) -> list[str]:
        counter.take()
        voice.answer(services, parse_call(call_fields(sender, sid, "ringing")))
        return counter.take()

    figures["call arrival, new caller"] = call("+4520000011", "CA" + "1" * 32)
    figures["call arrival, caller with an open case"] = call("+4520000002", "CA" + "2" * 32)

    def email(raw: bytes) -> list[str]:
        counter.take()
        parsed = email_mime.parse(raw, services.settings.mail_domain)
        mail.receive(services, parsed.message, parsed.attachments, raw, None)
        return counter.take()

    first = email(EMAIL.format(mid="<b1@example.com>", extra="").encode())
    figures["email, first of a new case (incl. acknowledgement status)"] = first
    figures["email, later on the open case (by sender)"] = email(
        EMAIL.format(mid="<b2@example.com>", extra="").encode()
    )
    figures["email, reply threaded by In-Reply-To"] = email(
        EMAIL.format(mid="<b3@example.com>", extra="In-Reply-To: <b1@example.com>\r\n").encode()
    )
    from chalicelib.domain.model import Webinar

    session = Webinar(
        "bench-w",
        "Bench",
        services.clock() + timedelta(days=2),
        60,
        1,
        5,
        "education",
        "https://meet.example.org/b",
    )
    store.create_webinar(session)
    services.webinar("bench-w")  # the container's copy of the session, as a warm Lambda has it

    def booking(request: dict) -> list[str]:
        counter.take()
        webinars.book(services, services.webinar("bench-w"), request)
        return counter.take()

    figures["webinar booking, confirmed (new citizen)"] = booking(
        {"email": "w1@example.com", "consent": True}
    )
    figures["webinar booking, waitlisted (seats full)"] = booking(
        {"email": "w2@example.com", "consent": True}
    )
    from chalicelib.domain.model import Practitioner

    # A practitioner with room to spare, so that routing's hand-over is part of the count.
    store.create_practitioner(Practitioner("bench-p", "Bench", ("general",), ("da",), 50))
    anna = Actor("bench-p", "practitioner")
    staffing.set_duty(services, anna, True)
    figures["first SMS of a new citizen, routed to an on-duty practitioner"] = sms(
        "+4520000003", "hi", "SM" + "4" * 32
    )
    case_id = store.find_identity(Identity("phone", "+4520000003")).open_case_id
    counter.take()
    casework.inbox(services, anna)
    figures["inbox page (practitioner, profile read afresh)"] = counter.take()
    casework.inbox(services, Actor("boss", "manager"))
    figures["inbox page (manager)"] = counter.take()
    casework.reply(services, case_id, anna, "Hello!")
    figures["reply on a case (local outbox, profile read afresh)"] = counter.take()
    closed = store.get_case(case_id)
    store.close(
        CaseRef(closed.id, closed.queue, closed.language, closed.contact_id, "bench-p"),
        "answered",
        "bench-p",
        services.clock(),
    )
    figures["first SMS of a returning citizen (their case closed), routed"] = sms(
        "+4520000003", "ok", "SM" + "5" * 32
    )
    return figures


def report_figures(endpoint: str) -> list[tuple[str, str, str]]:
    """The weekly report's time and reads at 1k and 10k contacts, and with 10x history."""
    from bench.report_load import contacts_in_week, write
    from chalicelib.domain import reports
    from chalicelib.domain.hours import demo_hours

    now = datetime(2026, 11, 24, tzinfo=UTC)
    client, _, deps = bench_services(endpoint, "bench-report", "3600", 16, clock=lambda: now)
    deps.hours_changed(demo_hours())  # held by the container, so that no request reads them
    rows: list[tuple[str, str, str]] = []
    reads: list[str] = []

    def count(model: Any, **_: Any) -> None:
        reads.append(model.name)

    def measure(week: str, label: str) -> None:
        client.meta.events.register("before-call.dynamodb", count)
        reads.clear()
        started = time.perf_counter()
        figures = reports.compute(deps, week)
        elapsed = time.perf_counter() - started
        client.meta.events.unregister("before-call.dynamodb", count)
        rows.append(
            (
                f"weekly report, {label}",
                f"{elapsed * 1000:.0f} ms, {len(reads)} requests "
                f"({figures['contacts']['total']} contacts)",
                "goal < 2000 ms" if "10k" in label else "",
            )
        )

    w46 = datetime(2026, 11, 9, tzinfo=UTC)
    w47 = datetime(2026, 11, 16, tzinfo=UTC)
    write(client, "bench-report", contacts_in_week(w46 + timedelta(hours=2), 1000, 1))
    measure("2026-W46", "1k contacts")
    write(client, "bench-report", contacts_in_week(w47 + timedelta(hours=2), 10_000, 2))
    measure("2026-W47", "10k contacts")
    for n in range(10):  # ten weeks of other history, 1k contacts each
        write(
            client,
            "bench-report",
            contacts_in_week(w46 - timedelta(weeks=n + 1) + timedelta(hours=2), 1000, 10 + n),
        )
    measure("2026-W46", "1k contacts, with 10x history in other weeks")
    return rows


def inbox_figures(endpoint: str) -> list[tuple[str, str, str]]:
    """A busy helpline's inbox: 10,000 open cases, 200 practitioners with 8 cases each, the rest
    waiting in four queues. Requests and warm milliseconds (median of 5) of a practitioner's
    first page (two queues) and of managers' pages."""
    from bench.inbox_load import open_cases
    from chalicelib.domain.hours import demo_hours
    from chalicelib.domain.model import Practitioner

    now = datetime(2026, 11, 24, 9, tzinfo=UTC)
    client, store, deps = bench_services(endpoint, "bench-inbox", "3600", 8, clock=lambda: now)
    deps.hours_changed(demo_hours())
    queues = ("general", "careers", "education", "abroad")
    started = time.perf_counter()
    for p in range(200):
        mine = (queues[p % 4], queues[(p + 1) % 4])
        store.create_practitioner(Practitioner(f"p{p}", f"P{p}", mine, ("da",), 10))
        open_cases(client, "bench-inbox", now, 8, mine[0], assignee=f"p{p}", start=p * 8)
    for i, queue in enumerate(queues):
        open_cases(client, "bench-inbox", now, 2100, queue, start=2000 + i * 2100)
    load_s = time.perf_counter() - started
    counter = RequestCounter(client)

    def measure(label: str, actor: Actor, goal: str, **filters: str) -> tuple[str, str, str]:
        timings, calls, shown = [], [], 0
        for _ in range(6):  # the first warms the connection; the median of the other five
            counter.take()
            begun = time.perf_counter()
            cases, _ = casework.inbox(deps, actor, **filters)  # type: ignore[arg-type]
            timings.append(time.perf_counter() - begun)
            calls, shown = counter.take(), len(cases)
        ms = statistics.median(timings[1:]) * 1000
        value = f"{ms:.0f} ms, {len(calls)} requests ({', '.join(calls)}), {shown} cases shown"
        return (f"inbox at 10,000 open cases: {label}", value, goal)

    def counts(label: str, actor: Actor, goal: str) -> tuple[str, str, str]:
        timings, calls = [], []
        for _ in range(6):
            counter.take()
            begun = time.perf_counter()
            casework.inbox_counts(deps, actor)
            timings.append(time.perf_counter() - begun)
            calls = counter.take()
        ms = statistics.median(timings[1:]) * 1000
        value = f"{ms:.0f} ms, {len(calls)} requests ({', '.join(calls)})"
        return (f"inbox at 10,000 open cases: {label}", value, goal)

    return [
        ("inbox at 10,000 open cases: load (BatchWriteItem)", f"{load_s:.1f} s", ""),
        measure(
            "practitioner's first page (8 mine, 2 queues)",
            Actor("p7", "practitioner"),
            "goal: 8 mine + 17 waiting, 1 + queues requests (profile in the first), < 100 ms",
        ),
        measure("manager, one assignee", Actor("boss", "manager"), "1 Query", assignee="p7"),
        measure(
            "manager, one queue's waiting",
            Actor("boss", "manager"),
            "1 Query",
            status="queued",
            queue="careers",
        ),
        measure(
            "manager, all open (8 shards of gsi1, in parallel)",
            Actor("boss", "manager"),
            "1 Query a shard",
        ),
        counts("practitioner's counts (2 queues)", Actor("p7", "practitioner"), "1 + queues"),
        counts("manager's counts (4 queues)", Actor("boss", "manager"), "no COUNT of open"),
    ]


def safeguarding_figures() -> list[tuple[str, str, str]]:
    """Recall and precision per level of the default risk terms on the labelled corpus, and
    the time one assessment takes."""
    from chalicelib.domain import risk
    from tests import safeguarding_corpus

    rows = safeguarding_corpus.load()
    terms = risk.defaults()
    started = time.perf_counter()
    predicted = [risk.assess(message, terms).level for _, _, message in rows]
    each = (time.perf_counter() - started) / len(rows)
    scores = safeguarding_corpus.scores(predicted, [label for label, _, _ in rows])
    figures = [
        (
            f"risk {level} ({sum(label == level for label, _, _ in rows)} of {len(rows)} messages)",
            f"recall {recall:.2f}, precision {precision:.2f}",
            "goal recall >= 0.95, precision >= 0.7" if level == "high" else "",
        )
        for level, (recall, precision) in scores.items()
    ]
    return [*figures, ("risk assessment of one message (warm)", f"{each * 1e6:.0f} us", "")]


def compile_ours() -> None:
    """Our modules' bytecode, as the package ships it (scripts/package.py) and as the floor's
    libraries have theirs: a cold start then pays for importing, not for compiling."""
    import compileall

    compileall.compile_file(str(ROOT / "app.py"), quiet=1)
    compileall.compile_dir(str(ROOT / "chalicelib"), quiet=1)


def main() -> None:
    use_local_credentials()
    compile_ours()
    floor, cold, sms_path = import_times("import chalice, boto3", "import app", SMS_PATH)
    full_floor, full_sms = import_times("import chalice, boto3", SMS_PATH, finalized=True)
    rows = [
        ("cold init: import chalice, boto3 (floor)", f"{floor * 1000:.0f} ms", ""),
        ("cold init: import app", f"{cold * 1000:.0f} ms", ""),
        ("cold init ratio app / floor", f"{cold / floor:.2f}x", "goal <= 1.15x"),
        ("cold init: import app + all an SMS webhook loads", f"{sms_path * 1000:.0f} ms", ""),
        ("cold init ratio SMS path / floor", f"{sms_path / floor:.2f}x", "goal <= 1.15x"),
        (
            "  the same with the interpreter's teardown (Lambda has none)",
            f"{full_sms / full_floor:.2f}x ({full_floor * 1000:.0f} ms floor)",
            "",
        ),
    ]
    rows += safeguarding_figures()
    with DynamoDBLocal() as database:
        for name, calls in requests_per_sms(database.endpoint).items():
            goal = GOALS.get(name, "")
            rows.append((f"DynamoDB requests: {name}", f"{len(calls)} ({', '.join(calls)})", goal))
    with DynamoDBLocal() as database:
        rows += report_figures(database.endpoint)
    with DynamoDBLocal() as database:
        rows += inbox_figures(database.endpoint)
    subprocess.run(
        [sys.executable, "scripts/package.py"], cwd=ROOT, check=True, capture_output=True
    )
    size = (ROOT / "dist" / "prod" / "deployment.zip").stat().st_size
    rows.append(
        ("zipped deployment package (make package)", f"{size / 1e6:.1f} MB", "goal <= 10 MB")
    )
    width = max(len(r[0]) for r in rows)
    print(f"{'measure'.ljust(width)}  value  goal")
    for name, value, goal in rows:
        print(f"{name.ljust(width)}  {value}  {goal}")


if __name__ == "__main__":
    main()
