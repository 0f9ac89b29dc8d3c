"""The composition root: builds adapters from settings once per Lambda container, lazily.

Nothing here runs, or imports the domain and adapters, at import time: a cold start pays for the
modules its first request needs, so `import app` stays close to importing Chalice and boto3.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.config import Settings, load_settings

if TYPE_CHECKING:
    from chalicelib.adapters.blobs import LocalBlobs, S3Blobs
    from chalicelib.adapters.senders import (
        LocalDialer,
        TwilioVoice,
    )
    from chalicelib.domain.hours import OpeningHours
    from chalicelib.domain.model import Webinar
    from chalicelib.domain.ports import (
        Blobs,
        ChatSender,
        Dialer,
        MailSender,
        Recordings,
        SmsSender,
        Store,
    )
    from chalicelib.domain.risk import TermList
    from chalicelib.domain.wording import Wording

log = logging.getLogger("contact-centre")
WEBINAR_CACHE_SECONDS = 30.0
WORDING_CACHE_SECONDS = 30.0


def utc_now() -> datetime:
    return datetime.now(UTC)


def dynamodb_client(settings: Settings) -> Any:
    import boto3
    from botocore.config import Config

    return boto3.client(
        "dynamodb",
        region_name=settings.region,
        endpoint_url=settings.dynamodb_endpoint,
        config=Config(retries={"max_attempts": 5, "mode": "standard"}, tcp_keepalive=True),
    )


@dataclass(repr=False, eq=False)  # each generated method is compiled at import: only __init__
class Services:
    """Implements `Deps` (checked by mypy wherever it is passed as one): the parts are typed by
    their ports, so tests and the local stack put in-memory or local adapters in their place.
    Equal only to itself, as one container's dependencies should be."""

    settings: Settings
    store: Store
    sms: SmsSender
    calls: Dialer
    mail: MailSender
    blobs: Blobs
    clock: Callable[[], datetime] = utc_now
    _hours: OpeningHours | None = field(default=None, repr=False)
    _hours_read_at: float = field(default=0.0, repr=False)
    _webinars: dict[str, tuple[float, Webinar | None]] = field(default_factory=dict, repr=False)
    _wording: tuple[float, Wording] | None = field(default=None, repr=False)
    _terms: tuple[float, TermList] | None = field(default=None, repr=False)
    _sockets: Any = field(default=None, repr=False)  # the WebSocket API's management client

    def public_url(self, path: str) -> str:
        return self.settings.public_url(path)

    @property
    def chat(self) -> ChatSender:
        """Web chat messages go into their conversation in the store (see adapters/chat.py)."""
        from chalicelib.adapters.chat import ChatOutbox

        endpoint = self.settings.chat_websocket_endpoint
        if not endpoint:
            return ChatOutbox(self.store)
        if self._sockets is None:
            import boto3

            self._sockets = boto3.client(
                "apigatewaymanagementapi", region_name=self.settings.region, endpoint_url=endpoint
            )
        from chalicelib.channels.views import chat_push

        return ChatOutbox(self.store, self._sockets, chat_push)

    @property
    def recordings(self) -> Recordings:
        """Voicemails at Twilio with the account's credentials; none without an account."""
        from chalicelib.adapters.recordings import NoRecordings, TwilioRecordings

        settings = self.settings
        if not (settings.twilio_account_sid and settings.twilio_auth_token):
            return NoRecordings()
        timeout = settings.provider_timeout_seconds
        return TwilioRecordings(settings.twilio_account_sid, settings.twilio_auth_token, timeout)

    def sms_status_url(self, ref: str) -> str:
        """Where Twilio reports the delivery of the message `ref` names (signed, like all)."""
        return self.public_url(f"/webhooks/twilio/sms/status?ref={ref}")

    def hours_changed(self, hours: OpeningHours) -> None:
        """This container uses new hours at once; others within HOURS_CACHE_SECONDS."""
        self._hours, self._hours_read_at = hours, time.monotonic()

    def wording(self) -> Wording:
        """The templates with managers' edits, re-read at most every WORDING_CACHE_SECONDS: an
        edit reaches this container at once (`wording_changed`), the others within that."""
        from chalicelib.domain.wording import Wording

        now = time.monotonic()
        if self._wording is None or now - self._wording[0] > WORDING_CACHE_SECONDS:
            edits = self.store.template_overrides()
            self._wording = (now, Wording(edits, self.settings.default_language))
        return self._wording[1]

    def wording_changed(self) -> None:
        self._wording = None

    def webinar(self, webinar_id: str) -> Webinar | None:
        """Session details for booking, kept WEBINAR_CACHE_SECONDS: seats are not taken from
        this copy but by the booking transaction's condition, so a stale copy is harmless."""
        now = time.monotonic()
        cached = self._webinars.get(webinar_id)
        if cached is None or now - cached[0] > WEBINAR_CACHE_SECONDS:
            cached = (now, self.store.get_webinar(webinar_id))
            self._webinars[webinar_id] = cached
        return cached[1]

    def risk_terms(self) -> TermList:
        """The risk terms, re-read at most every HOURS_CACHE_SECONDS: a manager's change takes
        effect in this container at once (`risk_terms_changed`), in others within that time."""
        if (
            self._terms is None
            or time.monotonic() - self._terms[0] > self.settings.hours_cache_seconds
        ):
            from chalicelib.domain import safeguarding

            self._terms = (time.monotonic(), safeguarding.current_terms(self.store))
        return self._terms[1]

    def risk_terms_changed(self, terms: TermList) -> None:
        self._terms = (time.monotonic(), terms)

    def hours(self) -> OpeningHours:
        """The opening hours, re-read at most every HOURS_CACHE_SECONDS (they change rarely)."""
        fresh = time.monotonic() - self._hours_read_at < self.settings.hours_cache_seconds
        if self._hours is None or not fresh:
            stored = self.store.load_hours()
            if stored is None:
                from chalicelib.domain.hours import demo_hours

                log.warning("opening hours are not configured; using the demo hours")
                stored = demo_hours()
            self._hours, self._hours_read_at = stored, time.monotonic()
        return self._hours


def build_services(settings: Settings | None = None, client: Any = None) -> Services:
    from chalicelib.adapters.dynamodb import DynamoStore
    from chalicelib.adapters.senders import mail_sender, sms_sender

    settings = settings or load_settings()
    store = DynamoStore(
        client or dynamodb_client(settings), settings.table_name, settings.inbox_shards
    )
    return Services(
        settings=settings,
        store=store,
        sms=sms_sender(settings),
        calls=dialer(settings),
        mail=mail_sender(settings),
        blobs=blobs(settings),
    )


def dialer(settings: Settings) -> LocalDialer | TwilioVoice:
    """Callbacks through Twilio when it is configured; their TwiML is the edge's (composed on
    the first call: a cold start that places no call does not load it)."""
    from chalicelib.adapters import senders

    def bridge(citizen: str) -> str:
        from chalicelib.channels.twilio_voice import bridge

        return bridge(citizen, settings.twilio_from_number)

    return senders.dialer(settings, bridge)


def blobs(settings: Settings) -> LocalBlobs | S3Blobs:
    """A folder when BLOB_DIR is set (the local stack), else the inbound mail bucket in S3."""
    from pathlib import Path

    from chalicelib.adapters.blobs import LocalBlobs, S3Blobs

    if settings.blob_dir:
        return LocalBlobs(Path(settings.blob_dir))
    import boto3

    return S3Blobs(boto3.client("s3", region_name=settings.region), settings.inbound_bucket)


_services: Services | None = None
_lock = threading.Lock()


def services() -> Services:
    global _services
    with _lock:
        if _services is None:
            _services = build_services()
        return _services


def reset_services(replacement: Services | None = None) -> None:
    """Tests and the local server swap the whole graph, never single parts."""
    global _services
    with _lock:
        _services = replacement
