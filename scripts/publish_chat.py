"""Upload the citizens' chat page and widget (web/chat/) to the stack's chat bucket, where
CloudFront serves them at /chat/ with a strict CSP (infra/chat.json).

Usage: python scripts/publish_chat.py <ChatPageBucketName output> <PublicBaseUrl> [<exit site>]

The page's API address and neutral exit site are written into its <meta> tags here, once, so a
link can never choose them.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scripts.chat_files import FILES, FOLDER


def main() -> int:
    import boto3

    bucket, api = sys.argv[1], sys.argv[2]
    exit_site = sys.argv[3] if len(sys.argv) > 3 else "https://www.dr.dk/"
    if not (api.startswith("https://") and exit_site.startswith("https://")):
        raise SystemExit("the API and the exit site must be https addresses")
    s3 = boto3.client("s3")
    for path, (name, content_type) in FILES.items():
        if path.endswith("/"):
            continue  # CloudFront serves /chat/chat.html by name
        body = (FOLDER / name).read_bytes()
        if name == "chat.html":
            page = body.decode()
            page = page.replace('name="chat-api" content=""', f'name="chat-api" content="{api}"')
            page = page.replace(
                'name="chat-exit" content="https://www.dr.dk/"',
                f'name="chat-exit" content="{exit_site}"',
            )
            body = page.encode()
        s3.put_object(Bucket=bucket, Key=f"chat/{name}", Body=body, ContentType=content_type)
        print(f"uploaded chat/{name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
