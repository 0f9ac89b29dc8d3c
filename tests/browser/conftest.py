"""The web app in a real browser: Debian's Chromium (never a downloaded one) driven by Playwright,
against the real local server (`scripts/local_server.py`, as `make run` serves it) and DynamoDB
Local, with the demo practitioners seeded. `make test` builds web/dist first (`make web`)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from scripts.seed import seed
from tests.local_server import chalice_local

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def demo_store(dynamodb_local) -> Any:
    """A fresh table with the demo practitioners, hours and webinars (scripts/seed.py)."""
    import secrets

    import boto3

    from chalicelib.adapters.dynamodb import DynamoStore
    from scripts.localdb import create_table

    client = boto3.client("dynamodb", endpoint_url=dynamodb_local.endpoint, region_name="eu-west-1")
    store = DynamoStore(client, f"test-{secrets.token_hex(6)}")
    create_table(client, store.table)
    seed(store, datetime.now(UTC))
    return store


@pytest.fixture(scope="module")
def stack(demo_store, dynamodb_local) -> Iterator[str]:
    """The local server on the demo table; yields its base URL (the app is at /app/)."""
    if not (ROOT / "web" / "dist" / "index.html").exists():
        pytest.fail("web/dist is missing: run `make web` (make test does it)")
    blobs = Path(tempfile.mkdtemp(prefix="browser-blobs-"))
    with chalice_local(demo_store.table, dynamodb_local.endpoint, blobs) as base:
        yield base
    shutil.rmtree(blobs, ignore_errors=True)


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """One Chromium for the session: every test gets a fresh context of its own (`page`)."""
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail("Chromium is missing: `make chromium` (apt-get install chromium) installs it")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, tmp_path) -> Iterator[Any]:
    """A fresh context (nothing kept between tests) at 1280x900; CSP violations fail the test."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    page.on("pageerror", lambda e: problems.append(str(e)))
    yield page
    context.close()
    assert problems == []


def sign_in(page: Any, base: str, user: str) -> None:
    page.goto(base + "/app/")
    page.get_by_label("Demo user").select_option(user)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Inbox").wait_for()
