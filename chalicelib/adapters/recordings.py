"""Voicemail recordings where Twilio keeps them: fetched for a practitioner (as MP3) and deleted
when their citizen is erased or their retention ends, with the account's credentials (HTTP
basic auth: an account that enforces auth on media answers nothing without it). The deletion is
a REST call, made through the `twilio` library; the MP3 is media, not a REST resource, and the
library's HTTP client answers text only, so it is fetched with `requests` (the library's own).

The URL is built here from our account SID and a recording SID of the exact shape Twilio gives
(`RE` and 32 hex digits), never taken from a webhook or a request: nothing but our own account's
recordings on api.twilio.com can be fetched (no SSRF)."""

from __future__ import annotations

import re
from typing import Any

import requests

API = "https://api.twilio.com/2010-04-01/Accounts"
RECORDING_SID = r"RE[0-9a-fA-F]{32}"
MAX_BYTES = 4 * 1024 * 1024  # a 2-minute voicemail is well under 1 MB; a Lambda answers < 6 MB


class TwilioRecordings:
    def __init__(self, account_sid: str, auth_token: str, timeout: float) -> None:
        self._auth = (account_sid, auth_token)
        self._timeout = timeout
        self._client: Any = None

    def _twilio(self) -> Any:
        """The library's REST client (imported on first use: a cold start that never erases a
        voicemail does not pay for it), with our time-out: the library waits forever."""
        if self._client is None:
            from twilio.http.http_client import TwilioHttpClient
            from twilio.rest import Client

            http_client = TwilioHttpClient(timeout=self._timeout)
            self._client = Client(*self._auth, http_client=http_client)
        return self._client

    def _media_url(self, recording_sid: str) -> str:
        return f"{API}/{self._auth[0]}/Recordings/{_checked(recording_sid)}.mp3"

    def fetch(self, recording_sid: str) -> bytes | None:
        """The recording as MP3; None when Twilio has none under this SID (deleted)."""
        with requests.get(
            self._media_url(recording_sid), auth=self._auth, timeout=self._timeout, stream=True
        ) as answer:
            if answer.status_code == 404:
                return None
            answer.raise_for_status()
            data = bytearray()
            for chunk in answer.iter_content(64 * 1024):
                data += chunk
                if len(data) > MAX_BYTES:
                    raise ValueError("recording larger than a voicemail can be")
            return bytes(data)

    def delete(self, recording_sid: str) -> None:
        """Gone at Twilio; a recording already gone is fine (erasing twice changes nothing)."""
        from twilio.base.exceptions import TwilioRestException

        try:
            self._twilio().recordings(_checked(recording_sid)).delete()
        except TwilioRestException as error:
            if error.status != 404:
                raise


def _checked(recording_sid: str) -> str:
    """A SID of the shape Twilio gives, or nothing is asked of Twilio."""
    if not re.fullmatch(RECORDING_SID, recording_sid):
        raise ValueError("not a recording SID")
    return recording_sid


class NoRecordings:
    """Without a Twilio account (the local stack) there is no recording to fetch or delete."""

    def fetch(self, recording_sid: str) -> bytes | None:
        return None

    def delete(self, recording_sid: str) -> None:
        return None
