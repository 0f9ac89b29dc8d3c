"""`make outbox [N=20] [SHOW=<number or file>]`: what the local stack sent, newest last.

The local senders keep every message under LOCAL_OUTBOX_DIR (`.data/outbox`): each email as the
complete `.eml` SES would have received (open it in any mail client), each SMS and call as a line
of `sms.jsonl` / `calls.jsonl`. This lists them with their case ids; SHOW prints one whole.
Numbers count from the oldest message, so a number keeps naming the same message.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from email import message_from_bytes
from email.message import EmailMessage
from email.parser import BytesParser
from email.policy import default
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.local_stage import ROOT, local_environment

# <time>-<case id or "no-case">-<n>.eml, as chalicelib/adapters/senders.LocalFolder names them
_EML = re.compile(r"(?P<at>\d{8}T\d{12}Z)-(?P<case>[A-Za-z0-9_-]+)-(?P<n>\d+)\.eml")
_LINES = {"sms.jsonl": "sms", "calls.jsonl": "call"}


@dataclass(frozen=True)
class Entry:
    at: datetime
    channel: str  # email, sms or call
    to: str
    case_id: str
    summary: str  # an email's subject, an SMS's first line
    path: Path
    record: dict[str, Any] | None = None  # an SMS's or call's line


def _email(path: Path) -> Entry | None:
    named = _EML.fullmatch(path.name)
    if named is None:
        return None
    at = datetime.strptime(named["at"], "%Y%m%dT%H%M%S%fZ").replace(tzinfo=UTC)
    with path.open("rb") as file:
        message = BytesParser(policy=default).parse(file, headersonly=True)
    case_id = "" if named["case"] == "no-case" else named["case"]
    to, subject = str(message["To"] or ""), str(message["Subject"] or "")
    return Entry(at, "email", to, case_id, subject, path)


def _lines(path: Path, channel: str) -> list[Entry]:
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
            at = datetime.fromisoformat(record["at"])
        except (ValueError, KeyError, TypeError):
            continue  # a line cut short by a crash: skip it, keep the rest readable
        if channel == "sms":
            summary = (str(record.get("body") or "").splitlines() or [""])[0]
        else:
            summary = f"rings {record.get('practitioner', '?')} first"
        to, case_id = str(record.get("to", "")), str(record.get("case_id") or "")
        found.append(Entry(at, channel, to, case_id, summary, path, record))
    return found


def entries(folder: Path) -> list[Entry]:
    """Every message in the outbox folder, oldest first."""
    if not folder.is_dir():
        return []
    found = [entry for path in folder.glob("*.eml") if (entry := _email(path))]
    for name, channel in _LINES.items():
        if (folder / name).is_file():
            found.extend(_lines(folder / name, channel))
    return sorted(found, key=lambda entry: (entry.at, entry.path.name))


def listing(found: list[Entry], last: int) -> str:
    if not found:
        return "The outbox is empty: nothing was sent yet."
    start = max(len(found) - last, 0)
    rows = []
    for number, entry in enumerate(found[start:], start + 1):
        at = entry.at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
        summary = entry.summary if len(entry.summary) <= 60 else entry.summary[:59] + "…"
        rows.append(
            f"{number:>4}  {at}Z  {entry.channel:<5}  {entry.to:<28}  "
            f"{entry.case_id or '-':<28}  {summary}"
        )
    header = f"{'#':>4}  {'time (UTC)':<20}  {'what':<5}  {'to':<28}  {'case':<28}  subject / text"
    return "\n".join([header, *rows])


def whole(entry: Entry) -> str:
    """One message in full: an email's headers, text and attachments; an SMS's or call's record."""
    if entry.record is not None:
        return json.dumps(entry.record, indent=2, ensure_ascii=False)
    message = message_from_bytes(entry.path.read_bytes(), policy=default)
    assert isinstance(message, EmailMessage)
    lines = [f"{name}: {value}" for name, value in message.items()]
    for part in message.walk():
        if part.is_multipart():
            continue
        if part.is_attachment() or part.get_content_type() not in ("text/plain", "text/calendar"):
            payload = part.get_payload(decode=True) or b""
            kind = f"attachment {part.get_filename()}" if part.get_filename() else "part"
            lines += ["", f"[{kind}: {part.get_content_type()}, {len(payload)} bytes]"]
        else:
            lines += ["", f"[{part.get_content_type()}]", str(part.get_content()).rstrip()]
    lines += ["", f"file: {entry.path} (opens in any mail client)"]
    return "\n".join(lines)


def pick(found: list[Entry], show: str) -> Entry | None:
    """SHOW: a number from the listing, or an `.eml` file's name (only inside the outbox)."""
    if show.isdigit():
        number = int(show)
        return found[number - 1] if 1 <= number <= len(found) else None
    name = Path(show).name
    return next((entry for entry in found if entry.path.name == name), None)


def folder_of_local_stage() -> Path:
    configured = local_environment().get("LOCAL_OUTBOX_DIR") or ".data/outbox"
    return ROOT / configured


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dir", type=Path, default=None, help="the outbox folder")
    parser.add_argument("--last", type=int, default=20, help="how many to list (default 20)")
    parser.add_argument("--show", default="", help="a number from the listing or a file name")
    options = parser.parse_args(argv)
    folder = options.dir or folder_of_local_stage()
    found = entries(folder)
    if options.show:
        entry = pick(found, options.show)
        if entry is None:
            print(f"No message {options.show!r} in {folder}.", file=sys.stderr)
            return 1
        print(whole(entry))
        return 0
    print(listing(found, max(options.last, 1)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
