"""The local stack's web serving and demo sign-in (scripts/web_local.py), as a browser or an
attacker calls them: files of the build only, the CSP on every answer, tokens for demo users
only, and none at all on a stage that signs in elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from chalicelib.channels.auth import authenticate
from scripts import web_local
from scripts.auth_token import ensure_local_keys
from tests.conftest import AUTH_DIR, settings_for


@pytest.fixture
def dist(tmp_path: Path) -> Path:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>app</title>")
    (tmp_path / "assets" / "app.js").write_text("export {}")
    (tmp_path.parent / "secret.txt").write_text("not for the browser")
    return tmp_path


def test_the_build_is_served_with_the_csp_and_nothing_outside_it(dist: Path) -> None:
    status, headers, body = web_local.static_file("/app/", dist)
    assert (status, body) == (200, b"<!doctype html><title>app</title>")
    assert headers["Content-Security-Policy"] == web_local.CSP
    assert "script-src 'self'" in web_local.CSP and "unsafe-inline" not in web_local.CSP
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert web_local.static_file("/app/assets/app.js?v=1", dist)[0] == 200
    for path in ("/app/../secret.txt", "/app/assets/../../secret.txt", "/app/%2e%2e/secret.txt"):
        status, headers, body = web_local.static_file(path, dist)
        assert status == 404 and b"not for the browser" not in body
        assert headers["Content-Security-Policy"] == web_local.CSP


@pytest.fixture
def local_stage(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = settings_for("unused", None)
    monkeypatch.setenv("AUTH_JWKS_FILE", str(ensure_local_keys(AUTH_DIR)))
    monkeypatch.setenv("AUTH_ISSUER", settings.auth_issuer)
    monkeypatch.setenv("AUTH_CLIENT_ID", settings.auth_client_id)


@pytest.mark.usefixtures("local_stage")
def test_a_demo_user_signs_in_with_a_token_the_api_accepts() -> None:
    status, _, body = web_local.sign_in("GET", None)
    users = json.loads(body)["users"]
    assert status == 200
    assert {"id": "boss", "name": "Boss", "role": "manager"} in users
    assert {u["id"] for u in users if u["role"] == "practitioner"} >= {"p-anna", "p-jonas"}
    status, _, body = web_local.sign_in("POST", b'{"user": "p-anna"}')
    answer = json.loads(body)
    assert (status, answer["id"], answer["role"]) == (200, "p-anna", "practitioner")
    principal = authenticate(f"Bearer {answer['token']}", settings_for("unused", None))
    assert (principal.user_id, principal.role) == ("p-anna", "practitioner")


@pytest.mark.usefixtures("local_stage")
@pytest.mark.parametrize(
    "body",
    [
        b'{"user": "mallory"}',
        b'{"user": ["boss"]}',
        b"[1]",
        b"not json",
        b"",
        b'{"user": "' + b"x" * 2000 + b'"}',
    ],
)
def test_anyone_but_a_demo_user_is_refused_a_clear_400(body: bytes) -> None:
    status, _, answer = web_local.sign_in("POST", body)
    assert status == 400
    assert json.loads(answer)["error"]["code"] == "unknown_user"


def test_a_stage_without_local_keys_mints_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("AUTH_JWKS_FILE", raising=False)
    status, _, body = web_local.sign_in("POST", b'{"user": "boss"}')
    assert status == 404 and b"token" not in body


def test_only_the_app_and_sign_in_paths_are_taken_from_the_api() -> None:
    assert web_local.handle("GET", "/inbox", None) is None
    assert web_local.handle("POST", "/app/index.html", b"") is None  # the app is read-only
    assert web_local.handle("GET", "/app", None)[0] == 308
