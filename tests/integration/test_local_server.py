"""The local stack as a user runs it: `chalice local` over HTTP, posted to by the SMS simulator."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from scripts.localdb import free_port
from scripts.sms import post_signed, twilio_sms_form
from tests.conftest import AUTH_TOKEN, MAIL_DOMAIN, RELAY_SECRET
from tests.twilio_fakes import new_sid

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(local_store, dynamodb_local, tmp_path):
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "TABLE_NAME": local_store.table,
        "DYNAMODB_ENDPOINT_URL": dynamodb_local.endpoint,
        "PUBLIC_BASE_URL": base,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "AWS_DEFAULT_REGION": "eu-west-1",
        "EMAIL_RELAY_SECRET": RELAY_SECRET,
        "MAIL_DOMAIN": MAIL_DOMAIN,
        "BLOB_DIR": str(tmp_path / "blobs"),
    }
    process = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "chalice"),
            "local",
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
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(base + "/health", timeout=1) as answer:
                if answer.status == 200:
                    break
        except OSError:
            if time.monotonic() > deadline or process.poll() is not None:
                process.kill()
                pytest.fail("chalice local did not start")
            time.sleep(0.2)
    yield base
    process.terminate()
    process.wait(timeout=10)


def test_a_simulated_sms_reaches_the_real_local_server(server, local_store):
    url = server + "/webhooks/twilio/sms"
    form = twilio_sms_form("+4520000001", "Hej, kan I hjælpe mig? æøå", new_sid())
    status, twiml = post_signed(url, form, AUTH_TOKEN)
    assert status == 200
    [message] = ET.fromstring(twiml).findall("Message")
    assert "guidance helpline" in message.text
    again_status, again = post_signed(url, form, AUTH_TOKEN)
    assert (again_status, again) == (200, twiml)
    status, _ = post_signed(url, form, "wrong-token")
    assert status == 403
    cases = local_store.client.scan(TableName=local_store.table)["Items"]
    bodies = [i["body"]["S"] for i in cases if i["type"]["S"] == "interaction"]
    assert "Hej, kan I hjælpe mig? æøå" in bodies


def test_make_call_walks_the_menu_to_a_voicemail(server, local_store):
    env = {**os.environ, "PUBLIC_BASE_URL": server, "TWILIO_AUTH_TOKEN": AUTH_TOKEN}
    run = subprocess.run(
        [
            sys.executable,
            "scripts/call.py",
            "--from",
            "+4520000002",
            "--digits",
            "11",
            "--dial",
            "no-answer",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    out = run.stdout
    assert "<Gather" in out and "<Record" in out and "<Hangup" in out, run.stderr
    items = local_store.client.scan(TableName=local_store.table)["Items"]
    statuses = {i.get("status", {}).get("S") for i in items if i["type"]["S"] == "interaction"}
    assert {"voicemail", "completed"} <= statuses


def test_make_email_posts_a_signed_message_to_the_relay(server, local_store):
    env = {**os.environ, "PUBLIC_BASE_URL": server, "EMAIL_RELAY_SECRET": RELAY_SECRET}
    run = subprocess.run(
        [
            sys.executable,
            "scripts/relay_email.py",
            "--file",
            "tests/email_corpus/19-pdf-attachment.eml",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.stdout.startswith("HTTP 201"), run.stdout + run.stderr
    items = local_store.client.scan(TableName=local_store.table)["Items"]
    assert any(i["type"]["S"] == "case" and "email" in i["channels"]["SS"] for i in items)
