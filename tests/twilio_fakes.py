"""Requests exactly as Twilio sends them: the fields, the encoding, the signature."""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from twilio.request_validator import RequestValidator

from scripts.sms import twilio_sms_form
from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL


def new_sid(prefix: str = "SM") -> str:
    return prefix + secrets.token_hex(16)


def signed(path: str, form: dict[str, str], token: str = AUTH_TOKEN) -> dict:
    """Keyword arguments for the Chalice test client: body and headers of a signed webhook."""
    signature = RequestValidator(token).compute_signature(PUBLIC_BASE_URL + path, form)
    return {
        "body": urlencode(form),
        "headers": {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    }


def sms_form(sender: str, body: str, sid: str | None = None, **extra: str) -> dict[str, str]:
    return {**twilio_sms_form(sender, body, sid or new_sid()), **extra}


def status_form(sid: str, status: str, error_code: str | None = None) -> dict[str, str]:
    form = {
        "MessageSid": sid,
        "SmsSid": sid,
        "MessageStatus": status,
        "SmsStatus": status,
        "AccountSid": "AC" + "0" * 32,
        "From": "+4570203040",
        "To": "+4520000001",
        "ApiVersion": "2010-04-01",
    }
    if error_code:
        form["ErrorCode"] = error_code
    return form


def call_form(sender: str, sid: str | None = None, status: str = "ringing", **extra: str) -> dict:
    """The fields Twilio posts when a call arrives (and, with extras, for later call events)."""
    return {
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "CallSid": sid or new_sid("CA"),
        "CallStatus": status,
        "Called": "+4570203040",
        "CalledCountry": "DK",
        "Caller": sender,
        "CallerCountry": "DK",
        "Direction": "inbound",
        "From": sender,
        "FromCountry": "DK",
        "To": "+4570203040",
        "ToCountry": "DK",
        **extra,
    }


def recording_form(sender: str, sid: str, recording: str = "RE1") -> dict:
    """What Twilio posts when a 34-second voicemail on call `sid` is ready (`recording`: the
    last part of its URL)."""
    return call_form(
        sender,
        sid,
        "completed",
        RecordingSid=new_sid("RE"),
        RecordingUrl=f"https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/{recording}",
        RecordingDuration="34",
        RecordingStatus="completed",
    )
