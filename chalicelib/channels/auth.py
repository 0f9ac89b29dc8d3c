"""Sign-in: bearer JWTs as Amazon Cognito issues them, verified with PyJWT against the JWKS.

`jwt` (and the `cryptography` it needs for RS256) is imported on first use, so requests that never
authenticate, such as Twilio's webhooks, do not pay for it on a cold start.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from typing import Any, Literal

from chalicelib.config import Settings
from chalicelib.errors import Forbidden, Unauthenticated

Role = Literal["practitioner", "manager"]
LEEWAY_SECONDS = 30

_lock = threading.Lock()
_url_clients: dict[str, Any] = {}
_file_sets: dict[str, tuple[float, Any]] = {}


@dataclass(frozen=True)
class Principal:
    user_id: str  # the Cognito user name; for practitioners it is their practitioner id
    role: Role


def _signing_key(token: str, settings: Settings) -> Any:
    """The public key named by the token's `kid`, from the JWKS (cached per container)."""
    import jwt

    if settings.auth_jwks_file:
        path = settings.auth_jwks_file
        mtime = os.stat(path).st_mtime
        with _lock:
            cached = _file_sets.get(path)
            if cached is None or cached[0] != mtime:
                with open(path) as file:
                    cached = (mtime, jwt.PyJWKSet.from_json(file.read()))
                _file_sets[path] = cached
        kid = jwt.get_unverified_header(token).get("kid")
        for key in cached[1].keys:
            if key.key_id == kid:
                return key.key
        raise jwt.InvalidTokenError("unknown kid")
    url = settings.auth_jwks_url or settings.auth_issuer.rstrip("/") + "/.well-known/jwks.json"
    with _lock:
        client = _url_clients.get(url)
        if client is None:
            client = jwt.PyJWKClient(url, cache_keys=True, lifespan=3600)
            _url_clients[url] = client
    return client.get_signing_key_from_jwt(token).key


def authenticate(authorization: str | None, settings: Settings) -> Principal:
    if not settings.auth_issuer or not settings.auth_client_id:
        raise Unauthenticated("Sign-in is not configured on this stage.")
    scheme, _, token = (authorization or "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Send a bearer token: Authorization: Bearer <token>.")
    import jwt

    try:
        claims = jwt.decode(
            token.strip(),
            _signing_key(token.strip(), settings),
            algorithms=["RS256"],
            issuer=settings.auth_issuer,
            leeway=LEEWAY_SECONDS,
            options={"require": ["exp", "iss", "token_use"], "verify_aud": False},
        )
    except (jwt.PyJWTError, OSError, ValueError) as error:
        raise Unauthenticated("The token is not valid.") from error
    use = claims.get("token_use")
    if use == "access":
        client_ok, user = claims.get("client_id") == settings.auth_client_id, claims.get("username")
    elif use == "id":
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        client_ok, user = settings.auth_client_id in audiences, claims.get("cognito:username")
    else:
        raise Unauthenticated("The token is neither an access nor an id token.")
    if not client_ok or not isinstance(user, str) or not user:
        raise Unauthenticated("The token is not for this application.")
    groups = claims.get("cognito:groups") or []
    if "manager" in groups:
        return Principal(user, "manager")
    if "practitioner" in groups:
        return Principal(user, "practitioner")
    raise Forbidden("Your account has no role here (practitioner or manager).")


def require(principal: Principal, *roles: Role) -> Principal:
    if principal.role not in roles:
        raise Forbidden(f"This needs the role {' or '.join(roles)}.")
    return principal
