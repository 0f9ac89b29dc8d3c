"""`make sms FROM=+4520000001 BODY="..."`: an inbound SMS exactly as Twilio would post it.

Signed with the local stage's auth token over the local server's public URL; prints the TwiML.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twilio.request_validator import RequestValidator

from scripts.local_stage import local_environment

SERVICE_NUMBER = "+4570203040"


def twilio_sms_form(sender: str, body: str, sid: str | None = None) -> dict[str, str]:
    """The fields Twilio posts for an inbound SMS (a representative, complete set)."""
    return {
        "ToCountry": "DK",
        "ToState": "",
        "SmsMessageSid": sid or "",
        "NumMedia": "0",
        "ToCity": "",
        "FromZip": "",
        "SmsSid": sid or "",
        "FromState": "",
        "SmsStatus": "received",
        "FromCity": "",
        "Body": body,
        "FromCountry": "DK",
        "To": SERVICE_NUMBER,
        "MessagingServiceSid": "",
        "ToZip": "",
        "NumSegments": "1",
        "MessageSid": sid or "",
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "ApiVersion": "2010-04-01",
    }


def post_signed(url: str, form: dict[str, str], auth_token: str) -> tuple[int, str]:
    signature = RequestValidator(auth_token).compute_signature(url, form)
    request = urllib.request.Request(
        url,
        data=urlencode(form).encode(),
        method="POST",
        headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--from", dest="sender", required=True, help="E.164, e.g. +4520000001")
    parser.add_argument("--body", default="Hello, I need help choosing an education")
    parser.add_argument("--sid", default=None, help="MessageSid (default: a new one)")
    args = parser.parse_args()
    env = local_environment()
    sid = args.sid or "SM" + secrets.token_hex(16)
    url = env["PUBLIC_BASE_URL"].rstrip("/") + "/webhooks/twilio/sms"
    try:
        status, answer = post_signed(
            url, twilio_sms_form(args.sender, args.body, sid), env["TWILIO_AUTH_TOKEN"]
        )
    except urllib.error.URLError as error:
        print(f"could not reach {url}: {error.reason} (is `make run` running?)", file=sys.stderr)
        return 1
    print(f"HTTP {status}  MessageSid={sid}")
    print(answer)
    return 0 if status < 400 else 1


if __name__ == "__main__":
    raise SystemExit(main())
