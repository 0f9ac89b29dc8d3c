"""`make deploy-web STACK=<stack>`: the built web app (web/dist) into the stack's web bucket, under
app/, with its deployed config.json (Cognito's hosted UI, the app client, the callback).

Run after the stack is deployed (`make package`, then `sam deploy`): it reads the stack's outputs.
The hashed assets are cached for a year; index.html and config.json are revalidated every time,
so a new build is live at once.
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DIST = ROOT / "web" / "dist"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


def web_config(outputs: dict[str, str]) -> dict[str, str]:
    """What the app reads at start: sign in through the hosted UI; the API is same-origin."""
    return {
        "auth": "cognito",
        "api": "",
        "domain": outputs["AuthDomain"],
        "client_id": outputs["AppClientId"],
        "redirect_uri": outputs["WebUrl"],
    }


def upload(s3: Any, bucket: str, dist: Path, config: dict[str, str]) -> list[str]:
    """Every file of the build under app/ (config.json replaced by the stack's); the keys."""
    if not (dist / "index.html").is_file():
        raise SystemExit(f"{dist} has no build: run `make web` first")
    keys = []
    for path in sorted(p for p in dist.rglob("*") if p.is_file()):
        relative = path.relative_to(dist).as_posix()
        body = json.dumps(config).encode() if relative == "config.json" else path.read_bytes()
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        cache = IMMUTABLE if relative.startswith("assets/") else REVALIDATE
        s3.put_object(
            Bucket=bucket, Key=f"app/{relative}", Body=body, ContentType=kind, CacheControl=cache
        )
        keys.append(f"app/{relative}")
    return keys


def stack_outputs(cloudformation: Any, stack: str) -> dict[str, str]:
    [described] = cloudformation.describe_stacks(StackName=stack)["Stacks"]
    return {o["OutputKey"]: o["OutputValue"] for o in described.get("Outputs", [])}


def main() -> int:
    import boto3

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True)
    options = parser.parse_args()
    outputs = stack_outputs(boto3.client("cloudformation"), options.stack)
    keys = upload(boto3.client("s3"), outputs["WebBucketName"], DIST, web_config(outputs))
    print(f"uploaded {len(keys)} files; the app: {outputs['WebUrl']}")
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
