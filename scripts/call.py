"""`make call FROM=+4520000001 DIGITS=21`: a phone call to the local server, as Twilio makes it.

Posts the signed call webhook, then answers each menu with the next digit of DIGITS (a missing
digit is silence), follows <Dial> (its outcome from DIAL: completed, no-answer, busy) and
<Record> (a recording of RECORDING seconds), and prints every TwiML answer.
"""

from __future__ import annotations

import argparse
import secrets
import sys
import xml.etree.ElementTree as ET
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.local_stage import local_environment
from scripts.sms import SERVICE_NUMBER, post_signed

MAX_STEPS = 12


def call_fields(sender: str, sid: str, status: str) -> dict[str, str]:
    return {
        "AccountSid": "AC" + "0" * 32,
        "ApiVersion": "2010-04-01",
        "CallSid": sid,
        "CallStatus": status,
        "Called": SERVICE_NUMBER,
        "Caller": sender,
        "Direction": "inbound",
        "From": sender,
        "To": SERVICE_NUMBER,
    }


Post = Callable[[str, dict[str, str], str], "ET.Element | None"]


def walk_call(
    post: Post,
    base: str,
    digits: list[str],
    dial: str,
    recording: int,
    duration: int,
    ring: int = 0,
    pause: Callable[[int], None] | None = None,
) -> None:
    """Ring, answer each menu with the next digit (none left: silence), follow <Dial> with the
    outcome `dial` and <Record> with a recording of `recording` seconds, then hang up. A
    practitioner who answers does so after `ring` seconds and talks for the rest of `duration`
    (less the menu's half minute): `pause` lets that time pass on a simulated clock."""
    twiml = post(base + "/webhooks/twilio/voice", {}, "ringing")
    for _ in range(MAX_STEPS):
        if twiml is None:
            break
        if (gather := twiml.find("Gather")) is not None:  # before a hangup, as the rating's
            pressed = digits.pop(0) if digits else None
            if pressed is None and (redirect := twiml.find("Redirect")) is not None:
                twiml = post(redirect.text or "", {}, "in-progress")
            else:
                twiml = post(gather.get("action", ""), {"Digits": pressed or ""}, "in-progress")
        elif twiml.find("Hangup") is not None:
            break
        elif (dial_verb := twiml.find("Dial")) is not None:
            talked = max(0, duration - 30) if dial == "completed" else 0
            if pause is not None:
                pause(ring + talked)
            fields = {"DialCallStatus": dial}
            if dial == "completed":
                fields["DialCallDuration"] = str(talked)
            twiml = post(dial_verb.get("action", ""), fields, "in-progress")
        elif (record := twiml.find("Record")) is not None:
            taken = {
                "RecordingSid": "RE" + secrets.token_hex(16),
                "RecordingUrl": "https://api.twilio.com/2010-04-01/Accounts/AC0/Recordings/RElocal",
                "RecordingDuration": str(recording),
                "RecordingStatus": "completed",
            }
            post(record.get("recordingStatusCallback", ""), taken, "in-progress")
            twiml = post(
                record.get("action", ""), {"RecordingDuration": str(recording)}, "in-progress"
            )
        else:
            break
    post(base + "/webhooks/twilio/voice/status", {"CallDuration": str(duration)}, "completed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--from", dest="sender", required=True)
    parser.add_argument("--digits", default="")
    parser.add_argument("--dial", default="completed", choices=["completed", "no-answer", "busy"])
    parser.add_argument("--recording", type=int, default=12)
    args = parser.parse_args()
    env = local_environment()
    token, base = env["TWILIO_AUTH_TOKEN"], env["PUBLIC_BASE_URL"].rstrip("/")
    sid = "CA" + secrets.token_hex(16)
    digits = list(args.digits)

    def post(url: str, extra: dict[str, str], status: str = "in-progress") -> ET.Element | None:
        code, body = post_signed(url, {**call_fields(args.sender, sid, status), **extra}, token)
        print(f"--> POST {url.removeprefix(base)} {extra or ''}\n<-- HTTP {code}\n{body}\n")
        return ET.fromstring(body) if code == 200 and body.startswith("<?xml") else None

    walk_call(post, base, digits, args.dial, args.recording, duration=42)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
