"""Schemathesis against a real local server, for every route and every role's token: no 5xx,
and no answer that breaks the OpenAPI document the server publishes."""

from __future__ import annotations

import subprocess
import sys
import urllib.request
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from chalicelib.domain.hours import DEMO_TIMEZONE, OpeningHours, Window
from scripts.seed import seed
from tests.conftest import bearer
from tests.local_server import chalice_local

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def server(dynamodb_local, tmp_path_factory):
    import boto3

    from chalicelib.adapters.dynamodb import DynamoStore
    from scripts.localdb import create_table

    client = boto3.client("dynamodb", endpoint_url=dynamodb_local.endpoint, region_name="eu-west-1")
    create_table(client, "fuzz-table")
    store = DynamoStore(client, "fuzz-table")
    # Open around the clock, so every run (whatever its hour) starts real chats, and the chat
    # routes are tried with the tokens they answer; a chat poll is held 1 s at most, within
    # schemathesis's 10 s per request (the widget's 20 s hold is tested in test_chat).
    all_day = (Window(time(0), time(0)),)
    store.save_hours(OpeningHours(timezone=DEMO_TIMEZONE, weekly=dict.fromkeys(range(7), all_day)))
    seed(store, datetime.now(UTC))
    with chalice_local(
        "fuzz-table",
        dynamodb_local.endpoint,
        tmp_path_factory.mktemp("blobs"),
        CHAT_POLL_SECONDS="1",
    ) as base:
        yield base


ROLES = ("anonymous", "practitioner", "manager")


def schemathesis(server: str, role: str) -> list[str]:
    headers = []
    if role != "anonymous":
        token = bearer("p-anna" if role == "practitioner" else "boss", role)["Authorization"]
        headers = ["-H", f"Authorization: {token}"]
    return [
        str(Path(sys.executable).parent / "st"),
        "--config-file",
        str(ROOT / "tests" / "schemathesis.toml"),
        "run",
        f"{server}/openapi.json",
        # raw email (message/rfc822) cannot be generated; tests/email_corpus covers it
        "--exclude-path",
        "/webhooks/email/inbound",
        "--checks",
        "not_a_server_error,status_code_conformance,content_type_conformance,"
        "response_schema_conformance",
        "--workers",
        "1",
        "--max-examples",
        "8",
        "--phases",
        "examples,coverage,fuzzing",
        "--seed",
        "1",
        *headers,
    ]


@pytest.fixture(scope="module")
def fuzzed(server, tmp_path_factory):
    """Every role's run at once against the one (threaded) server, as a busy service has them:
    the suite waits for the longest run, not for the three in turn. Output goes to files, which
    no run can fill up and stall on while another is being waited for."""
    out = tmp_path_factory.mktemp("schemathesis")
    runs = {}
    for role in ROLES:
        log = (out / f"{role}.txt").open("w")
        runs[role] = (subprocess.Popen(schemathesis(server, role), cwd=ROOT, stdout=log), log)
    try:
        for run, _ in runs.values():
            run.wait(timeout=900)
    finally:
        for run, log in runs.values():
            if run.poll() is None:  # timed out: no run outlives the test
                run.kill()
                run.wait()
            log.close()
    return {role: (runs[role][0].returncode, (out / f"{role}.txt").read_text()) for role in ROLES}


@pytest.mark.parametrize("role", ROLES)
def test_no_route_answers_5xx_or_breaks_the_document(fuzzed, role):
    returncode, output = fuzzed[role]
    assert returncode == 0, output[-6000:]


def test_tokens_work_against_the_server(server):
    request = urllib.request.Request(server + "/inbox", headers=bearer("boss", "manager"))
    with urllib.request.urlopen(request, timeout=10) as answer:
        assert answer.status == 200
