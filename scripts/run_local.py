"""`make run`: DynamoDB Local (data kept in .data/), the table, demo data, then `chalice local`.

Ctrl-C stops both servers. Running it again keeps the data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chalicelib.adapters.dynamodb import DynamoStore
from chalicelib.config import load_settings
from chalicelib.wiring import build_services, dynamodb_client
from scripts.history import seed_history
from scripts.local_stage import ROOT, local_environment
from scripts.localdb import DynamoDBLocal, create_table, use_local_credentials
from scripts.seed import seed


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C (SIGINT) and a plain `kill` (SIGTERM) both stop the two servers, even when this
    # process was started with SIGINT ignored (as background jobs are).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    env = {**os.environ, **local_environment()}
    os.environ.update(env)
    use_local_credentials()
    env = dict(os.environ)
    settings = load_settings(env)
    db_port = urlparse(settings.dynamodb_endpoint or "").port or 8001
    api = urlparse(settings.public_base_url)

    from scripts.auth_token import ensure_local_keys

    ensure_local_keys(ROOT / ".data" / "auth")  # sign-in for the local stage: `make token`
    database = DynamoDBLocal(port=db_port, data_dir=ROOT / ".data" / "dynamodb")
    print(f"DynamoDB Local on {database.endpoint} (data in .data/dynamodb)", flush=True)
    database.start()
    try:
        client = dynamodb_client(settings)
        if create_table(client, settings.table_name):
            print(f"created table {settings.table_name}", flush=True)
        now = datetime.now(UTC)
        created = seed(DynamoStore(client, settings.table_name), now)
        print(f"demo data: {created} new (existing data kept)", flush=True)
        # The demo's eight past weeks are not sent today: they stay out of the outbox.
        past = replace(settings, outbox_dir=None)
        history = seed_history(build_services(past, client), now, ROOT / ".data" / "auth")
        if history:
            print(f"demo history: eight weeks played through the API: {history}", flush=True)
        server = subprocess.Popen(
            [
                sys.executable,
                str(ROOT / "scripts" / "local_server.py"),  # chalice local + the schedules
                "--stage",
                "local",
                "--host",
                api.hostname or "127.0.0.1",
                "--port",
                str(api.port or 8000),
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,  # its own group, stopped as one
        )
        try:
            if _ready(settings.public_base_url, server):
                print(NEXT_STEPS.format(api=settings.public_base_url), flush=True)
            return server.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            _stop(server)
    finally:
        database.stop()
        print("stopped DynamoDB Local", flush=True)


NEXT_STEPS = """
Ready. The API is on {api} (DynamoDB Local data in .data/; Ctrl-C stops everything).
The web app: {api}/app/ (sign in as a demo practitioner or the manager).
The scheduled functions run on their own schedules here (outbox retries and routing every minute,
webinar reminders every 5 minutes, the Monday report, retention at night).

In another terminal:
  make sms BODY="Hej, kan I hjælpe mig?"     a citizen texts (signed as Twilio signs)
  make call DIGITS=2                          a citizen calls through the phone menu
  make email                                  a citizen emails (tests/email_corpus/01-plain.eml)
  make token ROLE=practitioner USER=p-anna    a bearer token (p-anna, p-jonas, p-sara; boss)
  make tick JOB=retry_outbox                  run one scheduled function now
  make outbox                                 what was sent (.data/outbox): SHOW=<n or file>
  curl {api}/hours
"""


def _ready(base_url: str, server: subprocess.Popen[bytes], timeout: float = 30.0) -> bool:
    """Wait until the API answers /health (or the server exits)."""
    import time
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(base_url + "/health", timeout=1):
                return True
        except OSError:
            time.sleep(0.2)
    return False


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server's whole process group (chalice local forks a worker to auto-reload)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


if __name__ == "__main__":
    raise SystemExit(main())
