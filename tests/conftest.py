"""Shared fixtures: DynamoDB Local (started once per run, in memory), moto, clocks, services."""

from __future__ import annotations

import logging
import re
import secrets
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import boto3
import pytest

from chalicelib.adapters.blobs import LocalBlobs
from chalicelib.adapters.dynamodb import DynamoStore
from chalicelib.adapters.senders import LocalDialer, LocalMailOutbox, LocalOutbox
from chalicelib.config import load_settings
from chalicelib.domain.hours import OpeningHours
from chalicelib.wiring import Services, reset_services
from scripts.localdb import DynamoDBLocal, create_table, use_local_credentials

use_local_credentials()

COPENHAGEN = ZoneInfo("Europe/Copenhagen")
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
PUBLIC_BASE_URL = "https://helpline.example.org"
RELAY_SECRET = "test-relay-secret"
MAIL_DOMAIN = "helpline.example.org"


class Clock:
    """A clock the test moves; every service reads time through it."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        self.at += timedelta(microseconds=1)  # strictly increasing, like real time
        return self.at

    def set_local(self, *args: int) -> None:
        self.at = datetime(*args, tzinfo=COPENHAGEN).astimezone(UTC)


@pytest.fixture
def clock() -> Clock:
    # Tuesday 24 November 2026, 10:00 in Copenhagen: inside the demo opening hours.
    return Clock(datetime(2026, 11, 24, 10, 0, tzinfo=COPENHAGEN).astimezone(UTC))


AUTH_DIR = Path(tempfile.mkdtemp(prefix="contact-centre-auth-"))
BLOB_DIR = Path(tempfile.mkdtemp(prefix="contact-centre-blobs-"))


def settings_for(table_name: str, endpoint: str | None) -> Any:
    from scripts.auth_token import LOCAL_CLIENT_ID, LOCAL_ISSUER, ensure_local_keys

    return load_settings(
        {
            "AUTH_ISSUER": LOCAL_ISSUER,
            "AUTH_CLIENT_ID": LOCAL_CLIENT_ID,
            "AUTH_JWKS_FILE": str(ensure_local_keys(AUTH_DIR)),
            "TABLE_NAME": table_name,
            "DYNAMODB_ENDPOINT_URL": endpoint or "",
            "AWS_DEFAULT_REGION": "eu-west-1",
            "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
            "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
            "HOURS_CACHE_SECONDS": "0",
            "EMAIL_RELAY_SECRET": RELAY_SECRET,
            "MAIL_DOMAIN": MAIL_DOMAIN,
        }
    )


@pytest.fixture(scope="session")
def dynamodb_local() -> Iterator[DynamoDBLocal]:
    with DynamoDBLocal() as database:
        yield database


@pytest.fixture
def local_client(dynamodb_local: DynamoDBLocal) -> Any:
    return boto3.client("dynamodb", endpoint_url=dynamodb_local.endpoint, region_name="eu-west-1")


@pytest.fixture
def local_store(local_client: Any) -> DynamoStore:
    """A fresh table in DynamoDB Local, created from infra/table.json."""
    name = f"test-{secrets.token_hex(6)}"
    create_table(local_client, name)
    return DynamoStore(local_client, name)


@pytest.fixture
def store(local_store: DynamoStore, dynamodb_local: DynamoDBLocal) -> DynamoStore:
    """The same fresh table through a client sized for tests that hit it from many threads."""
    from botocore.config import Config

    client = boto3.client(
        "dynamodb",
        endpoint_url=dynamodb_local.endpoint,
        region_name="eu-west-1",
        config=Config(max_pool_connections=64, retries={"max_attempts": 5, "mode": "standard"}),
    )
    return DynamoStore(client, local_store.table)


@pytest.fixture
def moto_store() -> Iterator[DynamoStore]:
    from moto import mock_aws

    with mock_aws():
        client = boto3.client("dynamodb", region_name="eu-west-1")
        create_table(client, "unit-table")
        yield DynamoStore(client, "unit-table")


@pytest.fixture
def memory_store():
    """The in-memory fake of the store (tests/contract keeps it honest): no AWS, no moto."""
    from chalicelib.adapters.memory import MemoryStore

    return MemoryStore()


@pytest.fixture
def memory_services(memory_store, clock: Clock) -> Services:
    """The dependencies with every adapter in memory: the store, blobs, and one recording sender
    for SMS, calls and email (`deps.sms.sent`). For fast domain unit tests."""
    from chalicelib.adapters.memory import MemoryBlobs, RecordingSender

    sender = RecordingSender()
    return Services(
        settings=settings_for("memory", None),
        store=memory_store,
        sms=sender,
        calls=sender,
        mail=sender,
        blobs=MemoryBlobs(),
        clock=clock,
    )


def make_services(store: DynamoStore, clock: Clock, endpoint: str | None = None) -> Services:
    settings = settings_for(getattr(store, "table", "memory"), endpoint)  # the fake has none
    return Services(
        settings=settings,
        store=store,
        sms=LocalOutbox(),
        calls=LocalDialer(),
        mail=LocalMailOutbox(),
        blobs=LocalBlobs(BLOB_DIR),
        clock=clock,
    )


@dataclass
class TestServices(Services):
    """The test services, with the test's own opening hours and URLs where it gives them."""

    __test__ = False  # not a test class, though its name says so

    fixed_hours: OpeningHours | None = None
    urls: Callable[[str], str] | None = None

    def hours(self) -> OpeningHours:
        return self.fixed_hours if self.fixed_hours is not None else super().hours()

    def public_url(self, path: str) -> str:
        return self.urls(path) if self.urls else super().public_url(path)


def deps_of(
    store: Any,
    clock: Any,
    hours: OpeningHours | None = None,
    urls: Callable[[str], str] | None = None,
    **senders: Any,
) -> TestServices:
    """The dependencies of one domain call in a test: `store`, time from `clock` (a Clock, any
    function returning a moment, or one fixed moment), `hours` if given (else the store's),
    our URLs from `urls(path)` if given, and any of `sms`, `calls`, `mail`, `blobs` to use
    instead of the local ones (a Twilio account over `responses`, a recorder, a provider that
    is down)."""
    base = make_services(store, clock)
    fields = {
        name: getattr(base, name) for name in ("settings", "store", "sms", "calls", "mail", "blobs")
    }
    now = (lambda: clock) if isinstance(clock, datetime) else clock
    return TestServices(**{**fields, **senders}, clock=now, fixed_hours=hours, urls=urls)


@pytest.fixture
def local_services(local_store: DynamoStore, clock: Clock, dynamodb_local: DynamoDBLocal):
    services = make_services(local_store, clock, dynamodb_local.endpoint)
    reset_services(services)
    yield services
    reset_services(None)


@pytest.fixture
def api(local_services: Services):
    """Chalice's test client over the real app, with the services above."""
    from chalice.test import Client

    import app as application

    with Client(application.app) as client:
        yield client.http


class Captured(logging.Handler):
    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@pytest.fixture
def captured_logs() -> Iterator[list[str]]:
    """Every line our loggers write while the test runs, formatted as in production."""
    from chalicelib.logs import JsonFormatter

    handler = Captured()
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger("contact-centre"), logging.getLogger("guidance-contact-centre")]
    for logger in loggers:
        logger.addHandler(handler)
    yield handler.lines
    for logger in loggers:
        logger.removeHandler(handler)


__all__ = ["AUTH_TOKEN", "PUBLIC_BASE_URL", "Clock", "make_services", "replace"]


def bearer(user: str, role: str) -> dict[str, str]:
    """An Authorization header with a token shaped like Cognito's, signed by the test key."""
    from scripts.auth_token import ensure_local_keys, issue_token

    ensure_local_keys(AUTH_DIR)
    return {"Authorization": f"Bearer {issue_token(AUTH_DIR, user, role)}"}


class Requests:
    """The DynamoDB requests a client makes, by operation name, in order (botocore's hook).
    `settings=False`: not the reads of the settings item (opening hours, risk terms), which a
    warm container caches and the tests' services (HOURS_CACHE_SECONDS=0) read afresh."""

    def __init__(self, client: Any, settings: bool = True) -> None:
        self.calls: list[str] = []

        def count(params: dict[str, Any], model: Any, **_: Any) -> None:
            if settings or params.get("Key", {}).get("pk", {}).get("S") != "SETTINGS":
                self.calls.append(model.name)

        client.meta.events.register("provide-client-params.dynamodb", count)


def seen(case_id: str, store: Any = None) -> str:
    """The id of the newest event of the case: what a practitioner's screen shows as read, and
    what a reply, a close or a lowering carries (`seen`); in `store`, else the app's."""
    from chalicelib.wiring import services

    case = (store or services().store).get_case(case_id, with_timeline=True)
    assert case is not None and case.timeline, case_id
    return case.timeline[-1].id


def relay(
    api: Any,
    raw: bytes,
    *,
    secret: str = RELAY_SECRET,
    at: float | None = None,
    stamp: str | None = None,
) -> Any:
    """POST a raw email to the relay route, signed as the mail relay signs it (`stamp`: the
    timestamp header exactly as given, for tests of odd ones)."""
    import time

    from chalicelib.channels.email_relay import signature

    stamp = stamp if stamp is not None else str(int(at if at is not None else time.time()))
    return api.post(
        "/webhooks/email/inbound",
        body=raw,
        headers={
            "Content-Type": "message/rfc822",
            "X-Relay-Timestamp": stamp,
            "X-Relay-Signature": signature(secret, stamp, raw),
        },
    )


PERSONAL = re.compile(r"\+\d{8,15}|[\w.+-]+@[\w-]+\.[\w.-]+")
BODIES = (
    "which education fits me",
    "worried about my exams",
    "What job suits me",
    "Hej, kan I hjælpe mig",
    "I need help",
    "Hi! Tell me more",
)


@pytest.fixture(scope="session", autouse=True)
def no_personal_data_in_any_log_line():
    """Captures every line our loggers write during the whole suite, formatted as in production,
    and fails the run on a phone number, an email address or a message body in any of them."""
    from chalicelib.logs import JsonFormatter

    handler = Captured()
    handler.setFormatter(JsonFormatter())
    loggers = [logging.getLogger("contact-centre"), logging.getLogger("guidance-contact-centre")]
    for logger in loggers:
        logger.addHandler(handler)
        logger.setLevel(logging.INFO)  # as configure_logging sets it in production
    yield
    for logger in loggers:
        logger.removeHandler(handler)
    leaks = [
        line
        for line in handler.lines
        if PERSONAL.search(line) or any(body in line for body in BODIES)
    ]
    assert not leaks, f"{len(leaks)} log lines hold personal data, e.g. {leaks[0]}"


@dataclass
class RecordingMail:
    """The outbound mail adapter's interface, keeping what would have been sent."""

    sent: list[tuple[bytes, str]] = field(default_factory=list)

    def send_email(self, raw: bytes, to: str, ref: str | None = None):
        from chalicelib.adapters.senders import Sent

        self.sent.append((raw, to))
        return Sent("ses", f"ses-{len(self.sent)}", "sent")

    def last(self):
        from email import policy
        from email.parser import BytesParser

        return BytesParser(policy=policy.default).parsebytes(self.sent[-1][0])


@pytest.fixture
def outbox(local_services):
    """The mail that would have been sent; Anna works the queues mail lands in."""
    from chalicelib.domain.model import Practitioner

    local_services.mail = RecordingMail()
    local_services.store.create_practitioner(
        Practitioner("anna", "Anna", ("general", "education", "careers"), ("da",), 5)
    )
    return local_services.mail
