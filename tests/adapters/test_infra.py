"""The table is defined once (infra/table.json) and that definition is valid CloudFormation."""

from __future__ import annotations

from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from scripts.localdb import create_table, table_definition

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("template", sorted((ROOT / "infra").glob("*.json")), ids=lambda p: p.name)
def test_every_template_passes_cfn_lint(template):
    from cfnlint.api import lint_file

    assert [str(match) for match in lint_file(template)] == []


def test_the_local_table_is_the_template_table():
    definition = table_definition("x-table")
    keys = {k["AttributeName"]: k["KeyType"] for k in definition["KeySchema"]}
    assert keys == {"pk": "HASH", "sk": "RANGE"}
    assert {i["IndexName"] for i in definition["GlobalSecondaryIndexes"]} == {
        "gsi1",
        "gsi2",
        "gsi3",
        "gsi4",
    }
    assert definition["BillingMode"] == "PAY_PER_REQUEST"


@mock_aws
def test_create_table_is_idempotent_and_sets_ttl():
    client = boto3.client("dynamodb", region_name="eu-west-1")
    assert create_table(client, "cc-table") is True
    assert create_table(client, "cc-table") is False
    ttl = client.describe_time_to_live(TableName="cc-table")["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires_at"}
