"""Voicemail recordings where Twilio keeps them: fetched for a practitioner (as MP3) and deleted
when their citizen is erased or their retention ends, with the account's credentials (HTTP
basic auth: an account that enforces auth on media answers nothing without it).

The URL is built here from our account SID and a recording SID of the exact shape Twilio gives
(`RE` and 32 hex digits), never taken from a webhook or a request: nothing but our own account's
recordings on api.twilio.com can be fetched (no SSRF)."""

from __future__ import annotations

import re

import requests

API = "https://api.twilio.com/2010-04-01/Accounts"
RECORDING_SID = re.compile(r"RE[0-9a-fA-F]{32}")
MAX_BYTES = 4 * 1024 * 1024  # a 2-minute voicemail is well under 1 MB; a Lambda answers < 6 MB


class TwilioRecordings:
    def __init__(self, account_sid: str, auth_token: str, timeout: float) -> None:
        self._auth = (account_sid, auth_token)
        self._timeout = timeout

    def _url(self, recording_sid: str, kind: str) -> str:
        if not RECORDING_SID.fullmatch(recording_sid):
            raise ValueError("not a recording SID")
        return f"{API}/{self._auth[0]}/Recordings/{recording_sid}.{kind}"

    def fetch(self, recording_sid: str) -> bytes | None:
        """The recording as MP3; None when Twilio has none under this SID (deleted)."""
        with requests.get(
            self._url(recording_sid, "mp3"), auth=self._auth, timeout=self._timeout, stream=True
        ) as answer:
            if answer.status_code == 404:
                return None
            answer.raise_for_status()
            data = b""
            for chunk in answer.iter_content(64 * 1024):
                data += chunk
                if len(data) > MAX_BYTES:
                    raise ValueError("recording larger than a voicemail can be")
            return data

    def delete(self, recording_sid: str) -> None:
        """Gone at Twilio; a recording already gone is fine (erasing twice changes nothing)."""
        answer = requests.delete(
            self._url(recording_sid, "json"), auth=self._auth, timeout=self._timeout
        )
        if answer.status_code != 404:
            answer.raise_for_status()


class NoRecordings:
    """Without a Twilio account (the local stack) there is no recording to fetch or delete."""

    def fetch(self, recording_sid: str) -> bytes | None:
        return None

    def delete(self, recording_sid: str) -> None:
        return None
