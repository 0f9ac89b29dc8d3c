"""`make run`: DynamoDB Local (data kept in .data/), the table, demo data, then `chalice local`.

Ctrl-C stops both servers. Running it again keeps the data.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlparse

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from chalicelib.adapters.dynamodb import DynamoStore
from chalicelib.config import load_settings
from chalicelib.wiring import dynamodb_client
from scripts.local_stage import ROOT, local_environment
from scripts.localdb import DynamoDBLocal, create_table, use_local_credentials
from scripts.seed import seed


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    # Ctrl-C (SIGINT) and a plain `kill` (SIGTERM) both stop the two servers, even when this
    # process was started with SIGINT ignored (as background jobs are).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    env = {**os.environ, **local_environment()}
    os.environ.update(env)
    use_local_credentials()
    env = dict(os.environ)
    settings = load_settings(env)
    db_port = urlparse(settings.dynamodb_endpoint or "").port or 8001
    api = urlparse(settings.public_base_url)

    from scripts.auth_token import ensure_local_keys

    ensure_local_keys(ROOT / ".data" / "auth")  # sign-in for the local stage: `make token`
    database = DynamoDBLocal(port=db_port, data_dir=ROOT / ".data" / "dynamodb")
    print(f"DynamoDB Local on {database.endpoint} (data in .data/dynamodb)", flush=True)
    database.start()
    try:
        client = dynamodb_client(settings)
        if create_table(client, settings.table_name):
            print(f"created table {settings.table_name}", flush=True)
        created = seed(DynamoStore(client, settings.table_name), datetime.now(UTC))
        print(f"demo data: {created} new (existing data kept)", flush=True)
        print(f"API on {settings.public_base_url}  (Ctrl-C stops both)", flush=True)
        server = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "chalice"),
                "local",
                "--no-autoreload",  # DynamoDB Local writes under .data/: a reload per write
                "--stage",
                "local",
                "--host",
                api.hostname or "127.0.0.1",
                "--port",
                str(api.port or 8000),
            ],
            cwd=ROOT,
            env=env,
            start_new_session=True,  # its own group, stopped as one
        )
        try:
            return server.wait()
        except KeyboardInterrupt:
            return 0
        finally:
            _stop(server)
    finally:
        database.stop()
        print("stopped DynamoDB Local", flush=True)


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop the server's whole process group (chalice local forks a worker to auto-reload)."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=10)
            return
        except subprocess.TimeoutExpired:
            continue


if __name__ == "__main__":
    raise SystemExit(main())
