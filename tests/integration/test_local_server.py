"""The local stack as a user runs it: `chalice local` over HTTP, posted to by the SMS simulator."""

from __future__ import annotations

import os
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from scripts.sms import post_signed, twilio_sms_form
from tests.conftest import AUTH_TOKEN, RELAY_SECRET
from tests.local_server import chalice_local
from tests.twilio_fakes import new_sid

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def server(local_store, dynamodb_local, tmp_path):
    with chalice_local(local_store.table, dynamodb_local.endpoint, tmp_path / "blobs") as base:
        yield base


def test_a_simulated_sms_reaches_the_real_local_server(server, local_store):
    url = server + "/webhooks/twilio/sms"
    form = twilio_sms_form("+4520000001", "Hej, kan I hjælpe mig? æøå", new_sid())
    status, twiml = post_signed(url, form, AUTH_TOKEN)
    assert status == 200
    [message] = ET.fromstring(twiml).findall("Message")
    assert "Vejledningen" in message.text  # a Danish message: the Danish answer
    again_status, again = post_signed(url, form, AUTH_TOKEN)
    assert (again_status, again) == (200, twiml)
    status, _ = post_signed(url, form, "wrong-token")
    assert status == 403
    cases = local_store.client.scan(TableName=local_store.table)["Items"]
    bodies = [i["body"]["S"] for i in cases if i["type"]["S"] == "interaction"]
    assert "Hej, kan I hjælpe mig? æøå" in bodies


def _script(server: str, secrets: dict[str, str], *command: str) -> subprocess.CompletedProcess:
    """One of the make targets' scripts, run as a developer would against the local server."""
    return subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env={**os.environ, "PUBLIC_BASE_URL": server, **secrets},
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_make_call_walks_the_menu_to_a_voicemail(server, local_store):
    run = _script(
        server,
        {"TWILIO_AUTH_TOKEN": AUTH_TOKEN},
        "scripts/call.py",
        *("--from", "+4520000002", "--digits", "111", "--dial", "no-answer"),  # dansk, topic 1
    )
    out = run.stdout
    assert "<Gather" in out and "<Record" in out and "<Hangup" in out, run.stderr
    items = local_store.client.scan(TableName=local_store.table)["Items"]
    statuses = {i.get("status", {}).get("S") for i in items if i["type"]["S"] == "interaction"}
    assert {"voicemail", "completed"} <= statuses


def test_make_email_posts_a_signed_message_to_the_relay(server, local_store):
    run = _script(
        server,
        {"EMAIL_RELAY_SECRET": RELAY_SECRET},
        "scripts/relay_email.py",
        *("--file", "tests/email_corpus/19-pdf-attachment.eml"),
    )
    assert run.stdout.startswith("HTTP 201"), run.stdout + run.stderr
    items = local_store.client.scan(TableName=local_store.table)["Items"]
    assert any(i["type"]["S"] == "case" and "email" in i["channels"]["SS"] for i in items)


def test_the_local_api_holds_fifty_concurrent_clients(server, local_store):
    """50 citizens at once (SMS webhooks and public pages): none is reset or refused."""
    import urllib.request
    from concurrent.futures import ThreadPoolExecutor

    def one(n: int) -> int:
        if n % 2:
            body = "Hvilken uddannelse passer til mig?"
            form = twilio_sms_form(f"+45200{n:05d}", body, new_sid())
            status, _ = post_signed(server + "/webhooks/twilio/sms", form, AUTH_TOKEN)
            return status
        with urllib.request.urlopen(server + "/hours", timeout=30) as answer:
            return answer.status

    with ThreadPoolExecutor(max_workers=50) as pool:
        statuses = list(pool.map(one, range(50)))
    assert statuses == [200] * 50
    items = local_store.client.scan(TableName=local_store.table)["Items"]
    assert sum(1 for i in items if i["type"]["S"] == "case") == 25
