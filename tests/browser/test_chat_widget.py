"""The citizen's chat in Chromium, against the real local server and DynamoDB Local: a citizen
writes in the widget a service embeds, a practitioner answers (over the HTTP API, as the web app
will), the answer shows within 3 s; "Leave quickly" leaves nothing in the browser."""

from __future__ import annotations

import http.server
import json
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import bearer
from tests.local_server import chalice_local

playwright = pytest.importorskip("playwright.sync_api")

NEUTRAL = "https://neutral.example/"  # the embedding page's choice (the widget's data-exit)
PAGE_EXIT = "https://www.dr.dk/"  # the standalone page's, fixed when it is published
BOSS = bearer("boss", "manager")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def server(local_store, dynamodb_local, tmp_path) -> Iterator[str]:
    with chalice_local(local_store.table, dynamodb_local.endpoint, tmp_path / "blobs") as base:
        yield base


@pytest.fixture
def service_page(server) -> Iterator[str]:
    """A service's own page on another origin, embedding the widget with its one script tag. It
    is served from the loopback address too: Chromium's Private Network Access keeps a public
    page from loading scripts from 127.0.0.1 (deployed, both are public)."""
    page = (
        f'<!doctype html><h1>Guidance</h1><script type="module" src="{server}/chat/widget.js" '
        f'data-lang="en" data-exit="{NEUTRAL}"></script>'
    ).encode()

    class Page(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.end_headers()
            self.wfile.write(page)

        def log_message(self, *args: Any) -> None:
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/guidance"
    httpd.shutdown()


@pytest.fixture
def browser_context(tmp_path) -> Iterator[Any]:
    with playwright.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            tempfile.mkdtemp(dir=tmp_path, prefix="chromium-"),
            executable_path="/usr/bin/chromium",
            headless=True,
            args=ARGS,
        )
        for site in (NEUTRAL, PAGE_EXIT):
            context.route(
                site + "**",
                lambda route: route.fulfill(body="<p>Weather</p>", content_type="text/html"),
            )
        yield context
        context.close()


def reply(base: str, store: Any, body: str) -> None:
    """A practitioner's answer on the one chat case, through the same reply route as SMS."""
    items = store.client.scan(TableName=store.table, ConsistentRead=True)["Items"]
    [case] = [i for i in items if i.get("type", {}).get("S") == "case"]
    case_id = case["id"]["S"]
    detail = urllib.request.urlopen(urllib.request.Request(f"{base}/cases/{case_id}", headers=BOSS))
    latest = json.loads(detail.read())["timeline"][-1]["id"]
    request = urllib.request.Request(
        f"{base}/cases/{case_id}/replies",
        data=json.dumps({"body": body, "seen": latest}).encode(),
        headers={**BOSS, "Content-Type": "application/json"},
        method="POST",
    )
    assert urllib.request.urlopen(request).status == 201


def test_a_citizen_chats_in_the_widget_and_sees_the_answer_within_3_seconds(
    server, service_page, local_store, browser_context
):
    page = browser_context.new_page()
    page.goto(service_page)
    page.locator("#eg-chat-widget button.open").click()
    chat = page.frame_locator("#eg-chat-widget iframe")
    playwright.expect(chat.locator("#leave")).to_have_text("Leave quickly")
    chat.locator("#body").fill("<b>Hi</b>, can I study abroad?")
    chat.locator("#send").click()
    chat.locator("li.citizen").wait_for()
    assert chat.locator("li.citizen").inner_text() == "<b>Hi</b>, can I study abroad?"  # as text

    began = time.monotonic()
    reply(server, local_store, "Yes! <i>Let us</i> look at it together.")
    chat.locator("li.practitioner").wait_for(timeout=3000)
    assert time.monotonic() - began < 3.0
    assert chat.locator("li.practitioner").inner_text() == "Yes! <i>Let us</i> look at it together."
    assert chat.locator("li.practitioner i").count() == 0

    chat.locator("#leave").click()
    page.wait_for_url(NEUTRAL)
    state = browser_context.storage_state()
    assert state["cookies"] == [] and all(not o["localStorage"] for o in state["origins"])


def test_leave_quickly_ends_the_chat_and_leaves_no_history_or_storage(
    server, local_store, browser_context
):
    page = browser_context.new_page()
    page.goto(f"{server}/chat/?lang=da&exit=https://evil.example/")  # a link cannot choose it
    playwright.expect(page.locator("#leave")).to_have_text("Forlad hurtigt")
    page.locator("#body").fill("Jeg har det svært")
    page.locator("#send").click()
    page.locator("li.citizen").wait_for()
    token = page.evaluate("JSON.parse(sessionStorage.getItem('eg-chat')).token")
    assert len(token) >= 43
    entries = page.evaluate("history.length")

    page.locator("#leave").click()
    page.wait_for_url(PAGE_EXIT)
    assert page.evaluate("history.length") == entries  # replaced, not added to
    page.go_back()
    assert "/chat" not in page.url  # Back does not return to the chat
    page.goto(f"{server}/chat/")  # the same tab and origin: its sessionStorage would be here
    assert page.evaluate("sessionStorage.length + localStorage.length") == 0
    assert page.locator("li").count() == 0
    gone = urllib.request.Request(f"{server}/chat/conversations/{token}/messages?wait=0")
    with pytest.raises(urllib.error.HTTPError) as ended:
        urllib.request.urlopen(gone)
    assert ended.value.code == 404
