"""`make package` builds the prod stage as one template that passes cfn-lint, with the table,
mail, sign-in and schedules, and the hand-written least-privilege policy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def template() -> dict:
    subprocess.run(
        [sys.executable, "scripts/package.py"],
        cwd=ROOT,
        check=True,
        capture_output=True,
        timeout=600,
    )
    return json.loads((ROOT / "dist" / "prod" / "sam.json").read_text())


def test_the_package_passes_cfn_lint(template):
    from cfnlint.api import lint_file

    assert [str(m) for m in lint_file(ROOT / "dist" / "prod" / "sam.json")] == []


def test_everything_deploys_from_one_template(template):
    resources = template["Resources"]
    for name in (
        "CasesTable",
        "InboundBucket",
        "InboundBucketPolicy",
        "StoreInboundMail",
        "InboundMailTopic",
        "SesNotifications",
        "UserPool",
        "AppClient",
        "PractitionersGroup",
        "ManagersGroup",
        "APIHandler",
        "RouteWaitingCases",
        "WebinarReminders",
        "WeeklyServiceReport",
        "EmailFromSes",
        "SesNotification",
    ):
        assert name in resources, name
    api_env = resources["APIHandler"]["Properties"]["Environment"]["Variables"]
    assert api_env["AUTH_CLIENT_ID"] == {"Ref": "AppClient"}
    assert template["Parameters"]["TwilioAuthToken"]["NoEcho"] is True


def test_every_role_carries_the_hand_written_policy_only(template):
    written = json.loads((ROOT / ".chalice" / "policy-prod.json").read_text())
    roles = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert roles
    for role in roles:
        [policy] = role["Properties"]["Policies"]
        assert policy["PolicyDocument"] == written
    actions = {a for s in written["Statement"] for a in s["Action"]}
    assert "*" not in actions and not any(a.endswith(":*") for a in actions)
