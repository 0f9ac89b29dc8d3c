"""A real local server (`chalice local`'s handler, as `make run` serves it) for tests that go
over HTTP, as a user's tools do."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from scripts.auth_token import LOCAL_CLIENT_ID, LOCAL_ISSUER, ensure_local_keys
from scripts.localdb import free_port
from tests.conftest import AUTH_DIR, AUTH_TOKEN, MAIL_DOMAIN, RELAY_SECRET

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def chalice_local(
    table: str, dynamodb_endpoint: str, blob_dir: Path, **extra_env: str
) -> Iterator[str]:
    """Serve the app on a free port against `table` (with `extra_env` set); yields its base URL."""
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "TABLE_NAME": table,
        "DYNAMODB_ENDPOINT_URL": dynamodb_endpoint,
        "PUBLIC_BASE_URL": base,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "AWS_DEFAULT_REGION": "eu-west-1",
        "EMAIL_RELAY_SECRET": RELAY_SECRET,
        "MAIL_DOMAIN": MAIL_DOMAIN,
        "BLOB_DIR": str(blob_dir),
        "AUTH_ISSUER": LOCAL_ISSUER,
        "AUTH_CLIENT_ID": LOCAL_CLIENT_ID,
        "AUTH_JWKS_FILE": str(ensure_local_keys(AUTH_DIR)),
        **extra_env,
    }
    process = subprocess.Popen(
        [
            sys.executable,
            str(ROOT / "scripts" / "local_server.py"),  # `chalice local`, as `make run` serves it
            "--no-schedules",
            "--port",
            str(port),
            "--stage",
            "test",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(base + "/health", timeout=1):
                    break
            except OSError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("chalice local did not start") from None
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
