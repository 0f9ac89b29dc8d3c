"""One settings object read from the environment; reading it makes no AWS call."""

from __future__ import annotations

import os
import re
from collections.abc import Mapping

from chalicelib.domain.destinations import DEFAULT_COUNTRY_CODES
from chalicelib.domain.records import record

_CODE = r"\+?([1-9][0-9]{0,5})"


def country_codes(text: str) -> tuple[str, ...]:
    """The codes in "+45, 46" as ("+45", "+46"); a longer prefix narrows a shared code (+1204)."""
    codes = []
    for part in (p.strip() for p in text.split(",")):
        match = re.fullmatch(_CODE, part)
        if part and match is None:
            raise ValueError(f"ALLOWED_COUNTRY_CODES: {part!r} is not a calling code like +45")
        if match:
            codes.append("+" + match.group(1))
    return tuple(codes) or DEFAULT_COUNTRY_CODES


def shard_count(text: str) -> int:
    """1 to 16 (a cursor holds a place in each, and stays under the edge's 2 KB for a query
    value; `index_open_cases` re-keys from as many): a typo must stop the deploy, not page the
    managers through the wrong keys."""
    count = int(text)
    if not 1 <= count <= 16:
        raise ValueError(f"INBOX_SHARDS: {count} is not between 1 and 16")
    return count


@record
class Settings:
    """Everything configurable, read once per container from the environment."""

    table_name: str
    region: str
    dynamodb_endpoint: str | None
    public_base_url: str
    twilio_auth_token: str
    twilio_account_sid: str | None
    twilio_from_number: str | None
    twilio_messaging_service_sid: str | None
    hours_cache_seconds: float
    auth_issuer: str
    auth_client_id: str
    auth_jwks_url: str | None
    auth_jwks_file: str | None
    unanswered_minutes: int
    mail_domain: str
    mail_from_name: str
    inbound_bucket: str
    blob_dir: str | None
    email_relay_secret: str
    ses_configured: bool
    manager_emails: tuple[str, ...]
    retention_body_days: int
    retention_recording_days: int
    retention_identity_days: int
    retention_audit_days: int
    provider_timeout_seconds: float
    allowed_country_codes: tuple[str, ...] = DEFAULT_COUNTRY_CODES
    callbacks_per_number_per_day: int = 3
    booking_max_active: int = 5
    booking_max_per_day: int = 10
    # safeguarding: an unacknowledged alert goes on to the next supervisor and managers after
    # this; a high-risk case nobody took in hours gets the crisis answer after this
    safeguarding_alert_minutes: int = 5
    safeguarding_answer_minutes: int = 10
    # at most one alert SMS per supervisor this often; alerts meanwhile go in her next one
    safeguarding_sms_minutes: int = 10
    crisis_lines: str = "112 (akut fare), Livslinien 70 201 201, Børnetelefonen 116 111"
    outbox_dir: str | None = None  # the local senders keep what they send here (`make outbox`)
    # A case's language when nothing tells us another (`wording.LANGUAGES`, e.g. da or en)
    default_language: str = "da"
    inbox_shards: int = 8  # keys the managers' open inbox is spread over (docs/inbox.md)
    # The deployed WebSocket API's management endpoint (https://<api>.execute-api.<region>
    # .amazonaws.com/<stage>): chat messages are pushed to open widgets there too.
    chat_websocket_endpoint: str | None = None
    # The web app's public address (APP_URL; default PUBLIC_BASE_URL + "/app/", as the local
    # stack serves it; deployed, the CloudFront URL): links people follow go there, not to the API
    app_base_url: str | None = None
    # The longest a chat widget's poll is held open waiting for news (API Gateway cuts a request
    # at 29 s; behind a proxy with a shorter timeout, lower it). The widget asks for 20.
    chat_poll_seconds: float = 20.0

    @property
    def twilio_rest_configured(self) -> bool:
        """Real sending needs an account; without one, outbound messages go to the local outbox."""
        return bool(self.twilio_account_sid and self.twilio_auth_token)

    def public_url(self, path: str) -> str:
        """The URL Twilio calls (and signs) for one of our routes."""
        return self.public_base_url.rstrip("/") + path

    def case_page(self, case_id: str) -> str:
        """The web app's page of a case: what a person alerted about it opens (the API's
        `/cases/{id}` is JSON behind a bearer token)."""
        return self.app_page(f"inbox/{case_id}")

    def app_page(self, route: str) -> str:
        """A page of the web app by its route (`inbox`, `inbox/<case id>`)."""
        base = self.app_base_url or self.public_url("/app/")
        return base.rstrip("/") + f"/#/{route}"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    env = os.environ if env is None else env
    return Settings(
        table_name=env.get("TABLE_NAME", "guidance-contact-centre"),
        region=env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "eu-west-1",
        dynamodb_endpoint=env.get("DYNAMODB_ENDPOINT_URL") or None,
        public_base_url=env.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000"),
        twilio_auth_token=env.get("TWILIO_AUTH_TOKEN", ""),
        twilio_account_sid=env.get("TWILIO_ACCOUNT_SID") or None,
        twilio_from_number=env.get("TWILIO_FROM_NUMBER") or None,
        twilio_messaging_service_sid=env.get("TWILIO_MESSAGING_SERVICE_SID") or None,
        hours_cache_seconds=float(env.get("HOURS_CACHE_SECONDS", "60")),
        # Cognito: issuer https://cognito-idp.<region>.amazonaws.com/<user pool id>
        auth_issuer=env.get("AUTH_ISSUER", ""),
        auth_client_id=env.get("AUTH_CLIENT_ID", ""),
        auth_jwks_url=env.get("AUTH_JWKS_URL") or None,
        auth_jwks_file=env.get("AUTH_JWKS_FILE") or None,
        unanswered_minutes=int(env.get("UNANSWERED_MINUTES", "30")),
        mail_domain=env.get("MAIL_DOMAIN", "helpline.example.org"),
        mail_from_name=env.get("MAIL_FROM_NAME", "The guidance helpline"),
        inbound_bucket=env.get("INBOUND_BUCKET", "guidance-contact-centre-inbound"),
        blob_dir=env.get("BLOB_DIR") or None,
        email_relay_secret=env.get("EMAIL_RELAY_SECRET", ""),
        # SES sends for real only where it is switched on (AWS); elsewhere the local outbox.
        ses_configured=env.get("SES_SENDING", "") == "on",
        retention_body_days=int(env.get("RETENTION_BODY_DAYS", "365")),
        retention_recording_days=int(env.get("RETENTION_RECORDING_DAYS", "90")),
        retention_identity_days=int(env.get("RETENTION_IDENTITY_DAYS", "730")),
        retention_audit_days=int(env.get("RETENTION_AUDIT_DAYS", "1825")),
        # A provider that does not answer within this is treated like a 5xx: the message waits in
        # the outbox. Well under API Gateway's 29 s, so a practitioner's reply never hangs.
        provider_timeout_seconds=float(env.get("PROVIDER_TIMEOUT_SECONDS", "8")),
        chat_poll_seconds=float(env.get("CHAT_POLL_SECONDS", "20")),
        allowed_country_codes=country_codes(env.get("ALLOWED_COUNTRY_CODES", "")),
        callbacks_per_number_per_day=int(env.get("CALLBACK_REQUESTS_PER_NUMBER_PER_DAY", "3")),
        # One address or number: at most this many upcoming webinar bookings, and this many
        # booking messages (confirmations, repeats, refusals) a UTC day; beyond it, 429.
        booking_max_active=int(env.get("BOOKING_MAX_ACTIVE", "5")),
        booking_max_per_day=int(env.get("BOOKING_MAX_PER_DAY", "10")),
        # Every writer and reader of a table must agree; after a change, scripts/index_inbox.py.
        inbox_shards=shard_count(env.get("INBOX_SHARDS", "8")),
        outbox_dir=env.get("LOCAL_OUTBOX_DIR") or None,
        default_language=env.get("DEFAULT_LANGUAGE", "da"),
        app_base_url=env.get("APP_URL") or None,
        safeguarding_alert_minutes=int(env.get("SAFEGUARDING_ALERT_MINUTES", "5")),
        safeguarding_answer_minutes=int(env.get("SAFEGUARDING_ANSWER_MINUTES", "10")),
        safeguarding_sms_minutes=int(env.get("SAFEGUARDING_SMS_MINUTES", "10")),
        crisis_lines=env.get("CRISIS_LINES")
        or "112 (akut fare), Livslinien 70 201 201, Børnetelefonen 116 111",
        chat_websocket_endpoint=env.get("CHAT_WEBSOCKET_ENDPOINT") or None,
        manager_emails=tuple(
            a.strip() for a in env.get("MANAGER_EMAILS", "").split(",") if a.strip()
        ),
    )
