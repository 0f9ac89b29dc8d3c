"""Provider faults at the HTTP level: SES answers 500 (a real HTTP server on loopback stands in
for SES's endpoint), the reply waits in the outbox and goes out when SES is back."""

from __future__ import annotations

import json
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from chalicelib import outbox
from chalicelib.channels.email_relay import signature
from chalicelib.config import load_settings
from chalicelib.model import Identity, Practitioner
from chalicelib.senders import SesMail
from tests.conftest import MAIL_DOMAIN, RELAY_SECRET, bearer


@pytest.fixture
def ses(monkeypatch):
    """An SES v2 endpoint that fails until told otherwise; counts the attempts."""
    state = {"fail": True, "calls": 0}

    class Endpoint(BaseHTTPRequestHandler):
        def do_POST(self):
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            state["calls"] += 1
            status, body = (
                (500, {"message": "boom"})
                if state["fail"]
                else (200, {"MessageId": f"ses-{state['calls']}"})
            )
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Endpoint)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("AWS_ENDPOINT_URL_SESV2", f"http://127.0.0.1:{server.server_port}")
    yield state
    server.shutdown()


def test_an_email_reply_survives_ses_being_down(api, local_services, clock, ses):
    local_services.mail = SesMail(
        load_settings({"SES_SENDING": "on", "AWS_DEFAULT_REGION": "eu-west-1"})
    )
    local_services.store.create_practitioner(
        Practitioner("anna", "Anna", ("education", "general"), ("da",), 5)
    )
    raw = (
        f"From: s@example.com\r\nTo: studyhelp@{MAIL_DOMAIN}\r\nSubject: Q\r\n"
        "Message-ID: <f1@example.com>\r\n\r\nHello\r\n"
    ).encode()
    stamp = str(int(time.time()))
    answer = api.post(
        "/webhooks/email/inbound",
        body=raw,
        headers={
            "Content-Type": "message/rfc822",
            "X-Relay-Timestamp": stamp,
            "X-Relay-Signature": signature(RELAY_SECRET, stamp, raw),
        },
    )
    assert answer.status_code == 201  # the inbound side records everything regardless
    store = local_services.store
    case = store.get_case(store.find_identity(Identity("email", "s@example.com")).open_case_id)
    reply = api.post(
        f"/cases/{case.id}/replies",
        body=json.dumps({"body": "Answer"}),
        headers={**bearer("anna", "practitioner"), "Content-Type": "application/json"},
    )
    assert reply.status_code == 201 and json.loads(reply.body)["status"] == "retrying"
    failed_calls = ses["calls"]
    assert failed_calls >= 1
    ses["fail"] = False
    later = clock() + timedelta(minutes=2)
    result = outbox.retry_due(
        store, local_services.sms, local_services.mail, local_services.blobs, later, lambda ref: ref
    )
    assert result == {"sent": 2, "retrying": 0, "failed": 0}  # the acknowledgement and reply
    timeline = store.get_case(case.id, with_timeline=True).timeline
    out = [i for i in timeline if i.direction == "out"]
    assert [(i.automated, i.status) for i in out] == [(True, "sent"), (False, "sent")]
    assert all(i.provider_id.startswith("ses-") for i in out)
