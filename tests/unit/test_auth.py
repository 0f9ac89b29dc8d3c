"""Sign-in with Cognito-shaped tokens: what is accepted, what is refused, and why."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import jwt
import pytest

from chalicelib.channels import auth
from chalicelib.config import load_settings
from chalicelib.domain.errors import Forbidden, Unauthenticated, Unavailable
from scripts.auth_token import LOCAL_CLIENT_ID, LOCAL_ISSUER, ensure_local_keys, issue_token

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def keys(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("keys")
    ensure_local_keys(directory)
    return directory


@pytest.fixture(scope="module")
def settings(keys):
    return load_settings(
        {
            "AUTH_ISSUER": LOCAL_ISSUER,
            "AUTH_CLIENT_ID": LOCAL_CLIENT_ID,
            "AUTH_JWKS_FILE": str(keys / "jwks.json"),
        }
    )


def bearer(token: str) -> str:
    return f"Bearer {token}"


def kid_of(keys: Path) -> str:
    return json.loads((keys / "jwks.json").read_text())["keys"][0]["kid"]


def resigned(keys: Path, token: str, **changes) -> str:
    """`token` with some claims changed (None removes one), signed again with the key in `keys`."""
    claims = jwt.decode(token, options={"verify_signature": False})
    claims.update(changes)
    claims = {name: value for name, value in claims.items() if value is not None}
    private = (keys / "private.pem").read_bytes()
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": kid_of(keys)})


def test_an_access_token_gives_the_user_and_role(keys, settings):
    principal = auth.authenticate(bearer(issue_token(keys, "p-anna", "practitioner")), settings)
    assert principal == auth.Principal("p-anna", "practitioner")


def test_an_id_token_is_accepted_too(keys, settings):
    token = issue_token(keys, "boss", "manager", token_use="id")
    assert auth.authenticate(bearer(token), settings) == auth.Principal("boss", "manager")


def test_manager_wins_over_practitioner(keys, settings):
    token = issue_token(keys, "x", "practitioner")
    token = resigned(keys, token, **{"cognito:groups": ["practitioner", "manager"]})
    assert auth.authenticate(bearer(token), settings) == auth.Principal("x", "manager")


def test_the_scheme_is_case_insensitive(keys, settings):
    token = issue_token(keys, "p-anna", "practitioner")
    assert auth.authenticate(f"bearer  {token} ", settings).user_id == "p-anna"


@pytest.mark.parametrize(
    "header", [None, "", "Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Bearer not.a.token"]
)
def test_missing_or_malformed_headers_are_401(settings, header):
    with pytest.raises(Unauthenticated):
        auth.authenticate(header, settings)


@pytest.mark.parametrize(
    "change",
    [
        {"lifetime_seconds": -120},
        {"issuer": "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_other"},
        {"client_id": "another-app"},
        {"token_use": "refresh"},
    ],
    ids=["expired", "wrong-issuer", "wrong-client", "wrong-use"],
)
def test_tokens_that_are_not_ours_or_not_valid_are_401(keys, settings, change):
    with pytest.raises(Unauthenticated):
        auth.authenticate(bearer(issue_token(keys, "p-anna", "practitioner", **change)), settings)


def test_an_id_token_for_another_app_is_401(keys, settings):
    token = issue_token(keys, "boss", "manager", token_use="id", client_id="another-app")
    with pytest.raises(Unauthenticated):
        auth.authenticate(bearer(token), settings)


@pytest.mark.parametrize(
    "changes",
    [
        {"token_use": None},
        {"exp": None},
        {"username": None},
        {"username": ""},
        {"client_id": None},
    ],
    ids=["no-token-use", "no-exp", "no-username", "empty-username", "no-client-id"],
)
def test_access_tokens_missing_what_cognito_always_sends_are_401(keys, settings, changes):
    token = resigned(keys, issue_token(keys, "p-anna", "practitioner"), **changes)
    with pytest.raises(Unauthenticated):
        auth.authenticate(bearer(token), settings)


def test_an_id_token_without_its_user_name_is_401(keys, settings):
    token = issue_token(keys, "boss", "manager", token_use="id")
    with pytest.raises(Unauthenticated):
        auth.authenticate(bearer(resigned(keys, token, **{"cognito:username": None})), settings)


def test_expiry_has_thirty_seconds_of_leeway(keys, settings):
    token = issue_token(keys, "p-anna", "practitioner", lifetime_seconds=-10)
    assert auth.authenticate(bearer(token), settings).user_id == "p-anna"


def test_an_expired_token_says_so(keys, settings):
    token = issue_token(keys, "p-anna", "practitioner", lifetime_seconds=-120)
    with pytest.raises(Unauthenticated, match="expired"):
        auth.authenticate(bearer(token), settings)


def test_a_symmetric_token_keyed_with_the_public_key_is_401(keys, settings):
    """The classic alg confusion: HS256 with the published key as the secret."""
    claims = jwt.decode(issue_token(keys, "x", "manager"), options={"verify_signature": False})
    secret = (keys / "jwks.json").read_bytes()
    header = {"kid": kid_of(keys), "alg": "HS256", "typ": "JWT"}
    segments = [
        base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=")
        for part in (header, claims)
    ]
    signing_input = b".".join(segments)
    signature = hmac.new(secret, signing_input, hashlib.sha256).digest()
    token = (signing_input + b"." + base64.urlsafe_b64encode(signature).rstrip(b"=")).decode()
    with pytest.raises(Unauthenticated):
        auth.authenticate(bearer(token), settings)


def test_a_token_from_another_key_is_401(tmp_path, settings):
    with pytest.raises(Unauthenticated):
        auth.authenticate(bearer(issue_token(tmp_path, "p-anna", "manager")), settings)


def test_a_forged_kid_does_not_help(keys, tmp_path, settings):
    other = tmp_path / "other"
    ensure_local_keys(other)
    real_kid = json.loads((keys / "jwks.json").read_text())["keys"][0]["kid"]
    claims = jwt.decode(issue_token(other, "x", "manager"), options={"verify_signature": False})
    token = jwt.encode(
        claims, (other / "private.pem").read_bytes(), algorithm="RS256", headers={"kid": real_kid}
    )
    with pytest.raises(Unauthenticated):
        auth.authenticate(bearer(token), settings)


@pytest.mark.parametrize(
    "groups",
    [["guest"], [], None, "managers-and-practitioners"],
    ids=["other-group", "empty", "no-claim", "string-not-list"],
)
def test_a_valid_token_without_a_role_is_403(keys, settings, groups):
    token = resigned(keys, issue_token(keys, "visitor", "guest"), **{"cognito:groups": groups})
    with pytest.raises(Forbidden):
        auth.authenticate(bearer(token), settings)


def test_require_checks_the_role():
    manager = auth.Principal("boss", "manager")
    assert auth.require(manager, "manager") is manager
    with pytest.raises(Forbidden):
        auth.require(manager, "practitioner")


@pytest.mark.parametrize(
    "env",
    [{}, {"AUTH_ISSUER": LOCAL_ISSUER}, {"AUTH_CLIENT_ID": LOCAL_CLIENT_ID}],
    ids=["nothing", "no-client-id", "no-issuer"],
)
def test_unconfigured_sign_in_refuses_everyone(keys, env):
    settings = load_settings({**env, "AUTH_JWKS_FILE": str(keys / "jwks.json")})
    with pytest.raises(Unauthenticated, match="not configured"):
        auth.authenticate(bearer(issue_token(keys, "a", "manager")), settings)


def test_a_regenerated_local_key_pair_is_picked_up(tmp_path):
    """The JWKS file is cached, but `make clean` plus a new key pair must not need a restart."""
    keys = tmp_path / "auth"
    jwks = ensure_local_keys(keys)
    settings = load_settings(
        {
            "AUTH_ISSUER": LOCAL_ISSUER,
            "AUTH_CLIENT_ID": LOCAL_CLIENT_ID,
            "AUTH_JWKS_FILE": str(jwks),
        }
    )
    assert auth.authenticate(bearer(issue_token(keys, "a", "manager")), settings).user_id == "a"
    for name in ("private.pem", "jwks.json"):
        (keys / name).unlink()
    ensure_local_keys(keys)
    assert auth.authenticate(bearer(issue_token(keys, "b", "manager")), settings).user_id == "b"


def test_local_keys_are_kept_and_private(tmp_path):
    first = ensure_local_keys(tmp_path).read_bytes()
    assert ensure_local_keys(tmp_path).read_bytes() == first
    assert os.stat(tmp_path / "private.pem").st_mode & 0o777 == 0o600


def test_make_token_prints_the_token_alone(tmp_path):
    out = subprocess.run(
        [
            sys.executable,
            "scripts/auth_token.py",
            "--role",
            "manager",
            "--user",
            "boss",
            "--dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    settings = load_settings(
        {
            "AUTH_ISSUER": LOCAL_ISSUER,
            "AUTH_CLIENT_ID": LOCAL_CLIENT_ID,
            "AUTH_JWKS_FILE": str(tmp_path / "jwks.json"),
        }
    )
    assert out.count("\n") == 1
    assert auth.authenticate(bearer(out.strip()), settings) == auth.Principal("boss", "manager")
    bad = subprocess.run(
        [
            sys.executable,
            "scripts/auth_token.py",
            "--role",
            "root",
            "--user",
            "x",
            "--dir",
            str(tmp_path),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and bad.stdout == ""


@pytest.fixture
def jwks_server(keys):
    """A JWKS endpoint on loopback, served like Cognito's; yields its base URL and the paths hit."""
    jwks = (keys / "jwks.json").read_bytes()
    fetches: list[str] = []

    class Jwks(BaseHTTPRequestHandler):
        def do_GET(self):
            fetches.append(self.path)
            found = self.path.endswith("/.well-known/jwks.json") or self.path == "/keys.json"
            self.send_response(200 if found else 404)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(jwks if found else b"{}")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", fetches
    finally:
        server.shutdown()
        server.server_close()


def user_pool(base: str, pool: str, client_id: str = "app", **more: str):
    """A user pool served by the test's JWKS server: its issuer, and settings that trust it."""
    issuer = f"{base}/eu-west-1_{pool}"
    return issuer, load_settings({"AUTH_ISSUER": issuer, "AUTH_CLIENT_ID": client_id, **more})


def test_the_jwks_url_is_fetched_once_and_cached(keys, jwks_server):
    base, fetches = jwks_server
    issuer, settings = user_pool(base, "pool", "app-client")
    for user in ("a", "b"):
        token = issue_token(keys, user, "practitioner", issuer=issuer, client_id="app-client")
        assert auth.authenticate(bearer(token), settings).user_id == user
    assert fetches == ["/eu-west-1_pool/.well-known/jwks.json"]


def test_auth_jwks_url_overrides_the_issuer_default(keys, jwks_server):
    base, fetches = jwks_server
    issuer, settings = user_pool(base, "elsewhere", AUTH_JWKS_URL=f"{base}/keys.json")
    token = issue_token(keys, "boss", "manager", issuer=issuer, client_id="app")
    assert auth.authenticate(bearer(token), settings) == auth.Principal("boss", "manager")
    assert fetches == ["/keys.json"]


def test_an_unknown_kid_from_the_jwks_url_is_401(keys, tmp_path, jwks_server):
    base, _ = jwks_server
    issuer, settings = user_pool(base, "unknown")
    assert auth.authenticate(
        bearer(issue_token(keys, "a", "manager", issuer=issuer, client_id="app")), settings
    )
    stranger = issue_token(tmp_path / "other", "a", "manager", issuer=issuer, client_id="app")
    with pytest.raises(Unauthenticated):
        auth.authenticate(bearer(stranger), settings)


def test_an_unreachable_jwks_endpoint_is_503_not_401(keys, jwks_server):
    """The user pool's keys not answering is our outage, not a bad token: 503, try again."""
    base, fetches = jwks_server
    issuer, settings = user_pool(base, "gone", AUTH_JWKS_URL=f"{base}/missing.json")
    token = issue_token(keys, "a", "manager", issuer=issuer, client_id="app")
    with pytest.raises(Unavailable) as refused:
        auth.authenticate(bearer(token), settings)
    assert refused.value.status == 503 and fetches == ["/missing.json"]


def test_importing_auth_does_not_load_jwt():
    code = (
        "import sys, chalicelib.channels.auth; "
        "assert 'jwt' not in sys.modules and 'cryptography' not in sys.modules"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_forged_kids_do_not_make_us_fetch_the_jwks_on_every_request(keys, tmp_path, jwks_server):
    """Tokens naming made-up keys are refused from the cache: PyJWKClient (2.10+) fetches the
    JWKS again for an unknown `kid` only after a cool-down, so forged tokens are no amplifier."""
    base, fetches = jwks_server
    issuer = f"{base}/eu-west-1_forged"
    settings = load_settings({"AUTH_ISSUER": issuer, "AUTH_CLIENT_ID": "app"})
    good = issue_token(keys, "a", "manager", issuer=issuer, client_id="app")
    assert auth.authenticate(bearer(good), settings).user_id == "a"
    for n in range(20):
        forged = issue_token(tmp_path / f"k{n}", "a", "manager", issuer=issuer, client_id="app")
        with pytest.raises(Unauthenticated):
            auth.authenticate(bearer(forged), settings)
    assert len(fetches) <= 2  # the first fetch, and at most one look for a rotated key
    assert auth.authenticate(bearer(good), settings).user_id == "a"
    assert len(fetches) <= 2
