"""`make email FILE=tests/email_corpus/19-pdf-attachment.eml`: a raw message to the local relay.

Signed as a relay would sign it (HMAC over the timestamp and the bytes); prints the answer.
"""

from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chalicelib.channels.email_relay import signature
from scripts.local_stage import local_environment


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--file", type=Path, required=True)
    args = parser.parse_args()
    env = local_environment()
    raw = args.file.read_bytes()
    stamp = str(int(time.time()))
    url = env["PUBLIC_BASE_URL"].rstrip("/") + "/webhooks/email/inbound"
    request = urllib.request.Request(
        url,
        data=raw,
        method="POST",
        headers={
            "Content-Type": "message/rfc822",
            "X-Relay-Timestamp": stamp,
            "X-Relay-Signature": signature(env["EMAIL_RELAY_SECRET"], stamp, raw),
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:
            print(f"HTTP {answer.status}\n{answer.read().decode()}")
            return 0
    except urllib.error.HTTPError as error:
        print(f"HTTP {error.code}\n{error.read().decode()}")
        return 1
    except urllib.error.URLError as error:
        print(f"could not reach {url}: {error.reason} (is `make run` running?)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
