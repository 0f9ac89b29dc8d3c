"""Outbound senders behind one small interface: Twilio's REST API, or the local outbox.

The local outbox is what runs when no Twilio account is configured (the local stack, the tests):
the message is recorded on the case as usual, with status `local`, and nothing leaves the machine.
With a folder (LOCAL_OUTBOX_DIR, `.data/outbox` on the local stage) it also keeps what it would
have sent, so a developer can read it (`make outbox`): each email as the complete `.eml` SES would
receive, each SMS and call as one line of `sms.jsonl` / `calls.jsonl`.
"""

from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from chalicelib.config import Settings
from chalicelib.domain.destinations import DEFAULT_COUNTRY_CODES, destination_allowed
from chalicelib.domain.errors import MessageRejected
from chalicelib.domain.records import record

# The final refusal a message or call to a country off the allow-list gets; the case shows it
# as "rejected: country-not-allowed", like a provider's own final refusals.
COUNTRY_REFUSED = "country-not-allowed"


@record
class Sent:
    provider: str
    provider_id: str
    status: str


# SES's answers that no retry can change; throttling, a paused account or an unverified domain
# are fixed on our side, so those messages wait in the outbox instead.
SES_FINAL_REFUSALS = frozenset({"MessageRejected", "BadRequestException"})


@contextmanager
def _twilio_refusals() -> Iterator[None]:
    """Twilio answers 400 for a message it will never take (an invalid or unsubscribed number:
    error 21211, 21610, ...); anything else (5xx, 429, a time-out) is worth retrying."""
    from twilio.base.exceptions import TwilioRestException

    try:
        yield
    except TwilioRestException as error:
        if error.status == 400:
            raise MessageRejected(f"twilio-{error.code or error.status}") from error
        raise


class _Destinations:
    """Every sender that texts or calls checks the number first: a refused country never
    reaches the provider (toll fraud costs money before any answer comes back)."""

    allowed_country_codes: tuple[str, ...] = DEFAULT_COUNTRY_CODES

    def _check(self, number: str) -> None:
        if not destination_allowed(number, self.allowed_country_codes):
            raise MessageRejected(COUNTRY_REFUSED)


# What may stand in a file name: a case id is ours, but it travels through a URL and back.
_UNSAFE = r"[^A-Za-z0-9_-]"


def case_of(ref: str | None) -> str | None:
    """The case id in a delivery reference `<case>.<message>` (or a bare case id), or in the
    `ref=` of a status-callback URL; None when there is none."""
    if not ref:
        return None
    if "?" in ref:
        ref = parse_qs(urlsplit(ref).query).get("ref", [""])[0]
    case_id = ref.partition(".")[0]
    return case_id or None


class LocalFolder:
    """Where the local senders keep what they send. Nothing is ever replaced or half-written:
    an email is written to a temporary file and linked under a name no other file has (the link
    fails rather than overwrite), a record is one `write` of one line to a file opened for
    appending."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @staticmethod
    def _now() -> str:
        return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")

    def email(self, raw: bytes, case_id: str | None) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")
        label = re.sub(_UNSAFE, "_", case_id or "")[:80] or "no-case"
        temporary = self.directory / f".{secrets.token_hex(8)}.tmp"
        try:
            descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(descriptor, "wb") as file:
                file.write(raw)
            for n in range(1, 10_000):
                path = self.directory / f"{stamp}-{label}-{n}.eml"
                try:
                    os.link(temporary, path)
                except FileExistsError:
                    continue
                return path
            raise FileExistsError(f"no free name for {stamp}-{label}")
        finally:
            temporary.unlink(missing_ok=True)

    def record(self, name: str, **fields: Any) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        line = json.dumps({"at": self._now(), **fields}, ensure_ascii=False) + "\n"
        descriptor = os.open(self.directory / name, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(descriptor, line.encode("utf-8"))
        finally:
            os.close(descriptor)


def _folder(directory: str | Path | None) -> LocalFolder | None:
    return LocalFolder(Path(directory)) if directory else None


class _LocalSender(_Destinations):
    """Without a Twilio account: the same country check, and a line in `directory` (when set)
    instead of the provider's request."""

    def __init__(
        self,
        allowed_country_codes: tuple[str, ...] = DEFAULT_COUNTRY_CODES,
        directory: str | Path | None = None,
    ) -> None:
        self.allowed_country_codes = allowed_country_codes
        self.folder = _folder(directory)

    def _keep(
        self, file: str, provider_id: str, to: str, status_callback: str | None, **fields: Any
    ) -> Sent:
        self._check(to)
        if self.folder is not None:
            self.folder.record(file, to=to, **fields, case_id=case_of(status_callback))
        return Sent(provider="local", provider_id=provider_id, status="local")


class LocalOutbox(_LocalSender):
    def send_sms(self, to: str, body: str, status_callback: str | None) -> Sent:
        sid = "LOCAL" + secrets.token_hex(16)
        return self._keep("sms.jsonl", sid, to, status_callback, body=body)


class TwilioSms(_Destinations):
    """Twilio's Messages API through the `twilio` library (imported on first send: cold starts
    that never send do not pay for it)."""

    def __init__(self, settings: Settings) -> None:
        if not (settings.twilio_from_number or settings.twilio_messaging_service_sid):
            raise ValueError("Set TWILIO_FROM_NUMBER or TWILIO_MESSAGING_SERVICE_SID to send SMS")
        self._settings = settings
        self._client: Any = None
        self.allowed_country_codes = settings.allowed_country_codes

    def _twilio(self) -> Any:
        if self._client is None:
            from twilio.http.http_client import TwilioHttpClient
            from twilio.rest import Client

            # The library waits forever by default; a time-out parks the message instead.
            http_client = TwilioHttpClient(timeout=self._settings.provider_timeout_seconds)
            self._client = Client(
                self._settings.twilio_account_sid,
                self._settings.twilio_auth_token,
                http_client=http_client,
            )
        return self._client

    def send_sms(self, to: str, body: str, status_callback: str | None) -> Sent:
        self._check(to)
        arguments: dict[str, Any] = {"to": to, "body": body}
        if self._settings.twilio_messaging_service_sid:
            arguments["messaging_service_sid"] = self._settings.twilio_messaging_service_sid
        else:
            arguments["from_"] = self._settings.twilio_from_number
        return self._create(self._twilio().messages, arguments, status_callback)

    @staticmethod
    def _create(resource: Any, arguments: dict[str, Any], status_callback: str | None) -> Sent:
        """One create on Twilio's Messages or Calls, refusals read by `_twilio_refusals`."""
        if status_callback:
            arguments["status_callback"] = status_callback
        with _twilio_refusals():
            created = resource.create(**arguments)
        return Sent(provider="twilio", provider_id=str(created.sid), status=str(created.status))


class LocalDialer(_LocalSender):
    """Without a Twilio account, a callback is recorded on the case with status `local`."""

    def connect(self, practitioner_phone: str, citizen: str, status_callback: str | None) -> Sent:
        sid = "LOCALCA" + secrets.token_hex(15)
        return self._keep(
            "calls.jsonl", sid, citizen, status_callback, practitioner=practitioner_phone
        )


class TwilioVoice(TwilioSms):
    """Twilio's Calls API: rings the practitioner, then bridges them to the citizen with the
    TwiML `bridge(citizen)` composes (the edge's, chalicelib/channels/twilio_voice.py)."""

    def __init__(self, settings: Settings, bridge: Callable[[str], str]) -> None:
        super().__init__(settings)
        self._bridge = bridge

    def connect(self, practitioner_phone: str, citizen: str, status_callback: str | None) -> Sent:
        self._check(citizen)
        arguments: dict[str, Any] = {
            "to": practitioner_phone,
            "from_": self._settings.twilio_from_number,
            "twiml": self._bridge(citizen),
        }
        return self._create(self._twilio().calls, arguments, status_callback)


class LocalMailOutbox:
    """Without SES, an email is recorded on the case with status `local` and not sent."""

    def __init__(self, directory: str | Path | None = None) -> None:
        self.folder = _folder(directory)

    def send_email(self, raw: bytes, to: str, ref: str | None = None) -> Sent:
        if self.folder is not None:
            self.folder.email(raw, case_of(ref))
        return Sent(
            provider="local", provider_id="LOCALMAIL" + secrets.token_hex(16), status="local"
        )


class SesMail:
    """SES v2 `send_email` with the raw MIME we composed (our own Message-ID and threading)."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._client: Any = None

    def send_email(self, raw: bytes, to: str, ref: str | None = None) -> Sent:
        if self._client is None:
            import boto3
            from botocore.config import Config

            # botocore's defaults (60 s, several retries) would outlast API Gateway's 29 s; one
            # quick retry, then the outbox's back-off takes over.
            timeout = self._settings.provider_timeout_seconds
            self._client = boto3.client(
                "sesv2",
                region_name=self._settings.region,
                config=Config(
                    connect_timeout=timeout,
                    read_timeout=timeout,
                    retries={"mode": "standard", "max_attempts": 2},
                ),
            )
        from botocore.exceptions import ClientError

        try:
            answer = self._client.send_email(
                Destination={"ToAddresses": [to]}, Content={"Raw": {"Data": raw}}
            )
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code in SES_FINAL_REFUSALS:
                raise MessageRejected(f"ses-{code}") from error
            raise
        return Sent(provider="ses", provider_id=str(answer["MessageId"]), status="sent")


def mail_sender(settings: Settings) -> LocalMailOutbox | SesMail:
    return SesMail(settings) if settings.ses_configured else LocalMailOutbox(settings.outbox_dir)


def dialer(settings: Settings, bridge: Callable[[str], str]) -> LocalDialer | TwilioVoice:
    if settings.twilio_rest_configured:
        return TwilioVoice(settings, bridge)
    return LocalDialer(settings.allowed_country_codes, settings.outbox_dir)


def sms_sender(settings: Settings) -> LocalOutbox | TwilioSms:
    if settings.twilio_rest_configured:
        return TwilioSms(settings)
    return LocalOutbox(settings.allowed_country_codes, settings.outbox_dir)
