"""`make token ROLE=practitioner USER=p-anna`: a bearer token for the local stack.

The local stage signs in like production (RS256 JWTs checked against a JWKS), with a key pair kept
under .data/auth/ instead of a Cognito user pool. The token is shaped like a Cognito access token.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LOCAL_ISSUER = "http://127.0.0.1:8000/local-issuer"
LOCAL_CLIENT_ID = "local-client"
ROLES = ("practitioner", "manager")


def ensure_local_keys(directory: Path) -> Path:
    """Create (once) an RSA key pair and its JWKS; returns the JWKS path. Keeps existing keys."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from jwt.algorithms import RSAAlgorithm

    directory.mkdir(parents=True, exist_ok=True)
    private_path, jwks_path = directory / "private.pem", directory / "jwks.json"
    if private_path.exists() and jwks_path.exists():
        return jwks_path
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    descriptor = os.open(private_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(pem)
    public = json.loads(RSAAlgorithm.to_jwk(key.public_key()))
    public.update({"kid": "local-" + uuid.uuid4().hex[:12], "alg": "RS256", "use": "sig"})
    jwks_path.write_text(json.dumps({"keys": [public]}, indent=2))
    return jwks_path


def issue_token(
    directory: Path,
    user: str,
    role: str,
    *,
    issuer: str = LOCAL_ISSUER,
    client_id: str = LOCAL_CLIENT_ID,
    lifetime_seconds: int = 8 * 3600,
    token_use: str = "access",
) -> str:
    import jwt

    jwks = json.loads(ensure_local_keys(directory).read_text())
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": str(uuid.uuid4()),
        "cognito:groups": [role],
        "iss": issuer,
        "token_use": token_use,
        "auth_time": now,
        "iat": now,
        "exp": now + lifetime_seconds,
        "jti": str(uuid.uuid4()),
    }
    if token_use == "id":
        claims.update({"aud": client_id, "cognito:username": user})
    else:
        claims.update(
            {"client_id": client_id, "username": user, "scope": "aws.cognito.signin.user.admin"}
        )
    private = (directory / "private.pem").read_bytes()
    return jwt.encode(claims, private, algorithm="RS256", headers={"kid": jwks["keys"][0]["kid"]})


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--role", required=True)
    parser.add_argument("--user", required=True)
    parser.add_argument("--dir", type=Path, default=ROOT / ".data" / "auth")
    args = parser.parse_args()
    if args.role not in ROLES:
        print(f"role must be one of {', '.join(ROLES)}", file=sys.stderr)
        return 2
    print(issue_token(args.dir, args.user, args.role))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
