"""The web app on the local stack, same origin as the API: `/app/` serves web/dist with the
Content-Security-Policy the deployed CloudFront sends, and `/local/sign-in` signs in a demo
practitioner or manager with the local stage's key pair; `/chat/` serves the citizens' chat page
and widget (scripts/chat_files.py).

Only the local server (scripts/local_server.py) mounts these; the Lambda package holds neither
scripts/ nor web/, so a deployed stage can never mint a token (Cognito signs people in there).
"""

from __future__ import annotations

import json
import mimetypes
import os
from pathlib import Path
from typing import Any

from scripts.chat_files import chat_file

ROOT = Path(__file__).resolve().parent.parent
WEB_DIST = ROOT / "web" / "dist"
APP_PREFIX = "/app/"
SIGN_IN = "/local/sign-in"
CHAT_PREFIX = "/chat/"  # the citizens' chat page and widget (scripts/chat_files.py)

# One policy, here and in infra/web.json's response-headers policy (a test checks they agree).
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; "
    "connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
MANAGER = {"id": "boss", "name": "Boss", "role": "manager"}
MAX_SIGN_IN_BODY = 1024


def demo_users() -> list[dict[str, str]]:
    """Who may sign in locally: the demo practitioners (scripts/seed.py) and the manager."""
    from scripts.seed import PRACTITIONERS

    people = [{"id": p.id, "name": p.display_name, "role": "practitioner"} for p in PRACTITIONERS]
    return [*people, MANAGER]


def static_file(path: str, dist: Path = WEB_DIST) -> tuple[int, dict[str, str], bytes]:
    """(status, headers, body) for a path under /app/: a file of the build, never outside it."""
    relative = path.split("?", 1)[0].split("#", 1)[0][len(APP_PREFIX) :] or "index.html"
    root = dist.resolve()
    target = (root / relative).resolve()
    if not target.is_relative_to(root) or not target.is_file():
        body = b"Not found. Build the app with `make web`." if not root.exists() else b"Not found"
        return 404, {**SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8"}, body
    kind = mimetypes.guess_type(target.name)[0] or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/javascript", "application/json"):
        kind += "; charset=utf-8"
    return 200, {**SECURITY_HEADERS, "Content-Type": kind}, target.read_bytes()


def sign_in(method: str, body: bytes | None) -> tuple[int, dict[str, str], bytes]:
    """GET: the demo users to pick from. POST {"user": id}: a bearer token for that user,
    signed with the local key pair whose JWKS the local stage checks (AUTH_JWKS_FILE)."""
    from scripts.auth_token import issue_token

    headers = {**SECURITY_HEADERS, "Content-Type": "application/json"}
    jwks = os.environ.get("AUTH_JWKS_FILE")
    if not jwks:  # a stage that signs in elsewhere (Cognito): nothing to mint here
        return 404, headers, _error("not_found", "No local sign-in on this stage")
    users = {u["id"]: u for u in demo_users()}
    if method == "GET":
        return 200, headers, json.dumps({"users": list(users.values())}).encode()
    try:
        chosen = (
            json.loads(body or b"{}").get("user") if len(body or b"") <= MAX_SIGN_IN_BODY else None
        )
    except (ValueError, AttributeError):
        chosen = None
    if not isinstance(chosen, str) or chosen not in users:
        return 400, headers, _error("unknown_user", "Pick one of the demo users", "user")
    user = users[chosen]
    lifetime = int(os.environ.get("LOCAL_SIGN_IN_SECONDS", str(8 * 3600)))
    token = issue_token(
        Path(jwks).parent,
        user["id"],
        user["role"],
        issuer=os.environ.get("AUTH_ISSUER", ""),
        client_id=os.environ.get("AUTH_CLIENT_ID", ""),
        lifetime_seconds=lifetime,
    )
    return 200, headers, json.dumps({"token": token, **user, "expires_in": lifetime}).encode()


def _error(code: str, message: str, field: str | None = None) -> bytes:
    error: dict[str, Any] = {"code": code, "message": message}
    if field:
        error["field"] = field
    return json.dumps({"error": error}).encode()


def handle(method: str, path: str, body: bytes | None) -> tuple[int, dict[str, str], bytes] | None:
    """The answer for the web app's paths, or None: the API's request, left to Chalice."""
    bare = path.split("?", 1)[0]
    if bare == "/app":
        return 308, {**SECURITY_HEADERS, "Location": APP_PREFIX}, b""
    if bare.startswith(APP_PREFIX) and method in ("GET", "HEAD"):
        return static_file(path)
    if bare == SIGN_IN and method in ("GET", "POST"):
        return sign_in(method, body)
    if bare.startswith(CHAT_PREFIX) and method in ("GET", "HEAD"):
        return chat_file(bare)
    return None
