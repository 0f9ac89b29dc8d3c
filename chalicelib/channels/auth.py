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
from chalicelib.domain.errors import Forbidden, Unauthenticated, Unavailable

Role = Literal["practitioner", "manager"]
# Lambda and Cognito clocks drift a little; 30 s keeps a token minted "just now" from being refused.
LEEWAY_SECONDS = 30
JWKS_LIFESPAN_SECONDS = 3600

_lock = threading.Lock()
# One PyJWKClient per JWKS URL and container: keys are fetched once, not on every request.
_url_clients: dict[str, Any] = {}
# Local stage: the JWKS file, parsed once per (path, version) so a regenerated key pair is noticed.
_file_sets: dict[str, tuple[tuple[int, int, int], Any]] = {}


@dataclass(frozen=True)
class Principal:
    user_id: str  # the Cognito user name; for practitioners it is their practitioner id
    role: Role


def _file_signing_key(token: str, path: str) -> Any:
    """The local stage's key: a JWKS file on disk stands in for the user pool's endpoint."""
    import jwt

    stat = os.stat(path)
    # mtime alone can repeat within one clock tick; size and inode catch a rewrite or a replace.
    version = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
    with _lock:
        cached = _file_sets.get(path)
        if cached is None or cached[0] != version:
            with open(path, encoding="utf-8") as file:
                cached = (version, jwt.PyJWKSet.from_json(file.read()))
            _file_sets[path] = cached
    kid = jwt.get_unverified_header(token).get("kid")
    for key in cached[1].keys:
        if key.key_id == kid:
            return key.key
    raise jwt.InvalidTokenError("unknown kid")


def _url_signing_key(token: str, url: str) -> Any:
    """The user pool's key, via a client kept per container (it refetches on an unknown kid)."""
    import jwt

    with _lock:
        client = _url_clients.get(url)
        if client is None:
            client = jwt.PyJWKClient(url, cache_keys=True, lifespan=JWKS_LIFESPAN_SECONDS)
            _url_clients[url] = client
    return client.get_signing_key_from_jwt(token).key


def _signing_key(token: str, settings: Settings) -> Any:
    """The public key named by the token's `kid`: from the local file, else the pool's JWKS URL."""
    if settings.auth_jwks_file:
        return _file_signing_key(token, settings.auth_jwks_file)
    url = settings.auth_jwks_url or settings.auth_issuer.rstrip("/") + "/.well-known/jwks.json"
    return _url_signing_key(token, url)


def authenticate(authorization: str | None, settings: Settings) -> Principal:
    """Who is calling, from the raw Authorization header; 401 unless the token is valid for us.

    Cognito issues both access and id tokens and front ends send either, so both are accepted, each
    checked against this app client in the claim Cognito uses for it (`client_id` or `aud`).
    A valid token without a practitioner or manager group is a 403: the caller is known but has no
    business here.
    """
    if not settings.auth_issuer or not settings.auth_client_id:
        raise Unauthenticated("Sign-in is not configured on this stage (AUTH_ISSUER/CLIENT_ID).")
    scheme, _, token = (authorization or "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthenticated("Send a bearer token: Authorization: Bearer <token>.")
    import jwt

    try:
        claims = jwt.decode(
            token,
            _signing_key(token, settings),
            algorithms=["RS256"],
            issuer=settings.auth_issuer,
            leeway=LEEWAY_SECONDS,
            # `aud` is only in id tokens; it is checked below, by token_use.
            options={"require": ["exp", "iss", "token_use"], "verify_aud": False},
        )
    except jwt.ExpiredSignatureError as error:
        raise Unauthenticated("The token has expired; sign in again.") from error
    except jwt.PyJWKClientConnectionError as error:
        # The user pool's keys could not be fetched: not the caller's fault, and signing in
        # again would not help. Retry later.
        raise Unavailable("Sign-in keys are unreachable right now; try again shortly.") from error
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
    groups = claims.get("cognito:groups")
    # A list, as Cognito sends it; a bare string would otherwise match roles by substring.
    groups = groups if isinstance(groups, list) else []
    if "manager" in groups:
        return Principal(user, "manager")
    if "practitioner" in groups:
        return Principal(user, "practitioner")
    raise Forbidden("Your account has no role here (practitioner or manager).")


def require(principal: Principal, *roles: Role) -> Principal:
    """Each route names the roles it serves; anyone else signed in gets a 403, not a 401."""
    if principal.role not in roles:
        raise Forbidden(f"This needs the role {' or '.join(roles)}.")
    return principal
