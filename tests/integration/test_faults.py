"""Provider faults at the HTTP level: SES answers 500 (a real HTTP server on loopback stands in
for SES's endpoint), the reply waits in the outbox and goes out when SES is back; SES and Twilio
not answering at all (a loopback socket that accepts and stays silent): we hang up first, and the
message waits in the outbox."""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import replace
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from chalicelib.adapters.senders import SesMail, TwilioSms
from chalicelib.config import load_settings
from chalicelib.domain import delivery
from chalicelib.domain.model import Identity, Practitioner
from tests.conftest import MAIL_DOMAIN, bearer, deps_of, relay, seen
from tests.sending import Fixed


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
            if state.get("reject"):  # SES's final answer for an address it will not send to
                status, body = 400, {"message": "Email address is not verified."}
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            if status == 400:
                self.send_header("x-amzn-ErrorType", "MessageRejected")
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


def _reply(api, case_id: str):
    """Anna answers the case from her inbox."""
    return api.post(
        f"/cases/{case_id}/replies",
        body=json.dumps({"body": "Answer", "seen": seen(case_id)}),
        headers={**bearer("anna", "practitioner"), "Content-Type": "application/json"},
    )


def test_an_email_reply_survives_ses_being_down(api, local_services, clock, ses):
    local_services.mail = SesMail(
        load_settings({"SES_SENDING": "on", "AWS_DEFAULT_REGION": "eu-west-1"})
    )
    case_id = _email_case(api, local_services)  # recorded though SES is down
    store = local_services.store
    reply = _reply(api, case_id)
    assert reply.status_code == 201 and json.loads(reply.body)["status"] == "retrying"
    failed_calls = ses["calls"]
    assert failed_calls >= 1
    ses["fail"] = False
    later = clock() + timedelta(minutes=2)
    result = delivery.retry_due(replace(local_services, clock=Fixed(later)))
    assert result == {"sent": 2, "retrying": 0, "failed": 0}  # the acknowledgement and reply
    timeline = store.get_case(case_id, with_timeline=True).timeline
    out = [i for i in timeline if i.direction == "out"]
    assert [(i.automated, i.status) for i in out] == [(True, "sent"), (False, "sent")]
    assert all(i.provider_id.startswith("ses-") for i in out)


class SilentProvider:
    """Accepts connections, reads what is sent, never answers; notes who hangs up first."""

    HOLD_SECONDS = 20  # far beyond our time-out, far below the libraries' defaults

    def __init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.connections = 0
        self.client_hung_up = 0
        self.counted = threading.Condition()
        self.stopping = threading.Event()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except OSError:
                return
            with self.counted:
                self.connections += 1
            threading.Thread(target=self._hold, args=(connection,), daemon=True).start()

    def _hold(self, connection: socket.socket) -> None:
        connection.settimeout(self.HOLD_SECONDS)
        with connection:
            try:
                while connection.recv(65536):
                    pass
                with self.counted:  # recv returned b"": the client closed first
                    self.client_hung_up += 1
                    self.counted.notify_all()
            except OSError:
                pass  # our hold expired (or reset): the client would still be waiting

    def every_client_hung_up(self) -> bool:
        """Whether the client closed every connection it opened. Its close reaches the holding
        thread a moment after our call returned, so wait for it (a busy machine may take a
        while); a client still waiting is reported when our own hold would have ended."""
        with self.counted:
            return self.counted.wait_for(
                lambda: self.connections >= 1 and self.client_hung_up == self.connections,
                timeout=self.HOLD_SECONDS / 2,
            )

    def close(self) -> None:
        self.stopping.set()
        self.listener.close()


@pytest.fixture
def silent_provider():
    provider = SilentProvider()
    yield provider
    provider.close()


def _sms_case(local_services) -> str:
    """A citizen's SMS case, and a practitioner of its queue to answer it."""
    from chalicelib.domain import intake
    from chalicelib.domain.model import InboundMessage

    store = local_services.store
    store.create_practitioner(Practitioner("anna", "Anna", ("education", "general"), ("da",), 5))
    citizen = Identity("phone", "+4520007777")
    sms = InboundMessage("sms", "twilio", "SM" + "7" * 32, citizen, "+4570203040", "hej")
    return intake.receive(
        deps_of(store, local_services.clock, hours=local_services.hours()), sms
    ).case_id


def _email_case(api, local_services) -> str:
    """A citizen's email case through the relay, and a practitioner of its queue."""
    local_services.store.create_practitioner(
        Practitioner("anna", "Anna", ("education", "general"), ("da",), 5)
    )
    raw = (
        f"From: t@example.com\r\nTo: studyhelp@{MAIL_DOMAIN}\r\nSubject: Q\r\n"
        "Message-ID: <t1@example.com>\r\n\r\nHello\r\n"
    ).encode()
    answer = relay(api, raw)
    assert answer.status_code == 201  # recorded, though the acknowledgement could not go out
    return json.loads(answer.body)["case_id"]


def test_twilio_not_answering_parks_the_reply_and_we_hang_up_first(
    api, local_services, silent_provider, monkeypatch
):
    # Twilio's API reached through a proxy that never answers the CONNECT: a real socket time-out
    # inside the `twilio` library's own HTTP client.
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{silent_provider.port}")
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    local_services.sms = TwilioSms(
        load_settings(
            {
                "TWILIO_ACCOUNT_SID": "AC" + "a" * 32,
                "TWILIO_AUTH_TOKEN": "secret",
                "TWILIO_FROM_NUMBER": "+4570203040",
                "PROVIDER_TIMEOUT_SECONDS": "0.5",
            }
        )
    )
    sms_case = _sms_case(local_services)
    reply = _reply(api, sms_case)
    assert reply.status_code == 201 and json.loads(reply.body)["status"] == "retrying"
    assert silent_provider.every_client_hung_up()
    store = local_services.store
    [entry] = store.due(local_services.clock() + timedelta(hours=1))
    assert entry.case_id == sms_case


def test_ses_not_answering_parks_the_reply_and_we_hang_up_first(
    api, local_services, silent_provider, monkeypatch
):
    monkeypatch.setenv("AWS_ENDPOINT_URL_SESV2", f"http://127.0.0.1:{silent_provider.port}")
    local_services.mail = SesMail(
        load_settings(
            {
                "SES_SENDING": "on",
                "AWS_DEFAULT_REGION": "eu-west-1",
                "PROVIDER_TIMEOUT_SECONDS": "0.5",
            }
        )
    )
    mail_case = _email_case(api, local_services)
    reply = _reply(api, mail_case)
    assert reply.status_code == 201 and json.loads(reply.body)["status"] == "retrying"
    assert silent_provider.every_client_hung_up()
    parked = local_services.store.due(local_services.clock() + timedelta(hours=1))
    assert mail_case in {entry.case_id for entry in parked}


def test_an_address_ses_rejects_fails_at_once_and_is_not_retried(api, local_services, clock, ses):
    ses["reject"] = True
    local_services.mail = SesMail(
        load_settings({"SES_SENDING": "on", "AWS_DEFAULT_REGION": "eu-west-1"})
    )
    case_id = _email_case(api, local_services)
    reply = _reply(api, case_id)
    assert reply.status_code == 201 and json.loads(reply.body)["status"] == "failed"
    timeline = local_services.store.get_case(case_id, with_timeline=True).timeline
    out = [(i.automated, i.status, i.error_code) for i in timeline if i.direction == "out"]
    rejected = "rejected: ses-MessageRejected"
    assert out == [(True, "failed", rejected), (False, "failed", rejected)]
    assert local_services.store.due(clock() + timedelta(hours=2)) == []
    assert ses["calls"] == 2  # the acknowledgement and the reply, once each
