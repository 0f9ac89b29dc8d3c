"""`make package` builds the prod stage as one template that passes cfn-lint, with the table,
mail, sign-in and schedules, and the hand-written least-privilege policy; and its deployment.zip
serves requests on its own, as Lambda would run it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path
from urllib.parse import urlencode

import boto3
import botocore
import jmespath
import pytest
import s3transfer

from tests.conftest import AUTH_TOKEN, PUBLIC_BASE_URL, bearer, settings_for
from tests.twilio_fakes import signed, sms_form

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


@pytest.fixture(scope="module")
def deployed(template) -> dict:
    """What CloudFormation runs: the SAM transform of the template, after `aws cloudformation
    package` has uploaded the zip (cfn-lint alone does not expand SAM resources)."""
    from samtranslator.parser.parser import Parser
    from samtranslator.translator.translator import Translator

    sam = json.loads(json.dumps(template))
    for resource in sam["Resources"].values():
        if resource["Type"] == "AWS::Serverless::Function":
            resource["Properties"]["CodeUri"] = "s3://artifacts/deployment.zip"
    translator = Translator(
        managed_policy_map={},
        sam_parser=Parser(),
        boto_session=boto3.Session(region_name="eu-west-1"),
    )
    return translator.translate(sam, {"PublicBaseUrl": "https://api.helpline.example.org"})


def test_the_package_passes_cfn_lint(template, deployed):
    from cfnlint.api import lint, lint_file

    assert [str(m) for m in lint_file(ROOT / "dist" / "prod" / "sam.json")] == []
    # After the transform: no circular references (the API and its function), no broken Refs.
    assert [str(m) for m in lint(json.dumps(deployed))] == []


def test_everything_deploys_from_one_template(template, deployed):
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
        "RetryOutbox",
        "RetentionPurge",
        "EmailFromSes",
        "SesNotification",
        "ChatPage",
        "ChatPageBucket",
        "ChatPageHeaders",
    ):
        assert name in resources, name
    assert template["Parameters"]["TwilioAuthToken"]["NoEcho"] is True
    assert resources["EmailFromSes"]["DependsOn"] == ["InboundMailTopic"]
    assert resources["SesNotification"]["DependsOn"] == ["SesNotifications"]


def test_every_function_gets_the_settings_and_secrets(deployed):
    functions = {
        name: resource["Properties"]["Environment"]["Variables"]
        for name, resource in deployed["Resources"].items()
        if resource["Type"] == "AWS::Lambda::Function"
    }
    assert len(functions) == 12  # the API's, 8 scheduled or event ones, 3 chat WebSocket ones
    for name, variables in functions.items():
        # what the stack named, so a parameter changed at deploy time reaches the code
        assert variables["TABLE_NAME"] == {"Ref": "CasesTable"}, name
        assert variables["INBOUND_BUCKET"] == {"Ref": "InboundBucket"}, name
        assert variables["MAIL_DOMAIN"] == {"Ref": "MailDomain"}, name
        assert variables["TWILIO_AUTH_TOKEN"] == {"Ref": "TwilioAuthToken"}, name
        assert variables["TWILIO_ACCOUNT_SID"] == {"Ref": "TwilioAccountSid"}, name
        assert variables["PUBLIC_BASE_URL"] == {"Ref": "PublicBaseUrl"}, name
        assert variables["AUTH_CLIENT_ID"] == {"Ref": "AppClient"}, name


def test_every_role_carries_the_hand_written_policy_only(template):
    written = json.loads((ROOT / ".chalice" / "policy-prod.json").read_text())
    roles = [r for r in template["Resources"].values() if r["Type"] == "AWS::IAM::Role"]
    assert roles
    for role in roles:
        [policy] = role["Properties"]["Policies"]
        assert policy["PolicyDocument"] == written
    actions = {a for s in written["Statement"] for a in s["Action"]}
    assert "*" not in actions and not any(a.endswith(":*") for a in actions)
    # Scoped to this stack's own table, bucket and mail domain, whatever they are named.
    resources = json.dumps([s["Resource"] for s in written["Statement"] if s["Sid"] != "Logs"])
    for name in ("${CasesTable}", "${InboundBucket}/*", "identity/${MailDomain}"):
        assert name in resources, name


# Runs inside the unzipped bundle, with only what Lambda's Python 3.11 runtime adds (boto3): API
# Gateway proxy events in on stdin, the app's responses out, as JSON lines.
LAMBDA_RUNTIME = """
import json, sys

try:
    import aiohttp  # twilio's asyncio client's dependency, left out of the bundle
    sys.exit("aiohttp is importable: in the bundle, or the bundle is not running alone")
except ImportError:
    pass

import app
from twilio.rest import Client

# The REST resources we call (SMS, callbacks, voicemail recordings); the domains we never call
# (Flex, Conversations...) are left out of the bundle.
account = Client("AC" + "0" * 32, "token").api.v2010.account
account.messages, account.calls, account.recordings
try:
    import twilio.rest.flex_api
    sys.exit("twilio.rest.flex_api is in the bundle")
except ImportError:
    pass


class Context:
    aws_request_id = "req-bundle-test"
    function_name = "APIHandler"
    memory_limit_in_mb = 512


for line in sys.stdin:
    print(json.dumps(app.app(json.loads(line), Context())), flush=True)
"""


def _event(method: str, resource: str, path: str, body: str = "", headers=None, **params) -> dict:
    return {
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {"Host": "helpline.example.org", **(headers or {})},
        "multiValueHeaders": {},
        "queryStringParameters": None,
        "multiValueQueryStringParameters": None,
        "pathParameters": params or None,
        "stageVariables": None,
        "requestContext": {
            "resourcePath": resource,
            "httpMethod": method,
            "path": path,
            "stage": "api",
            "requestId": "req-bundle-test",
            "identity": {"sourceIp": "203.0.113.9"},
        },
        "body": body or None,
        "isBase64Encoded": False,
    }


def _lambda_runtime(tmp_path: Path) -> Path:
    """A folder holding only what the Lambda runtime provides besides the standard library."""
    runtime = tmp_path / "runtime"
    runtime.mkdir()
    for module in (boto3, botocore, jmespath, s3transfer):
        (runtime / module.__name__).symlink_to(Path(module.__file__).parent)
    return runtime


def test_the_bundle_alone_serves_requests_against_dynamodb(template, tmp_path, local_store):
    task = tmp_path / "task"
    with zipfile.ZipFile(ROOT / "dist" / "prod" / "deployment.zip") as bundle:
        bundle.extractall(task)
    settings = settings_for(local_store.table, local_store.client.meta.endpoint_url)
    sms = sms_form("+4520009999", "which education fits me")
    events = [
        _event("GET", "/openapi.json", "/openapi.json"),
        _event(
            "POST",
            "/webinars/{webinar_id}/bookings",
            "/webinars/w-none/bookings",
            json.dumps({"name": 5}),
            {"Content-Type": "application/json"},
            webinar_id="w-none",
        ),
        _event(
            "POST",
            "/webhooks/twilio/sms",
            "/webhooks/twilio/sms",
            urlencode(sms),
            {"Content-Type": "application/x-www-form-urlencoded"},
        ),
        _event(
            "POST",
            "/webhooks/twilio/sms",
            "/webhooks/twilio/sms",
            **signed("/webhooks/twilio/sms", sms),
        ),
        _event("GET", "/inbox", "/inbox", headers=bearer("m-lea", "manager")),
    ]
    env = {
        "PATH": os.environ["PATH"],
        "AWS_ACCESS_KEY_ID": "local",
        "AWS_SECRET_ACCESS_KEY": "local",
        "AWS_DEFAULT_REGION": "eu-west-1",
        "TABLE_NAME": local_store.table,
        "DYNAMODB_ENDPOINT_URL": local_store.client.meta.endpoint_url,
        "PUBLIC_BASE_URL": PUBLIC_BASE_URL,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "AUTH_ISSUER": settings.auth_issuer,
        "AUTH_CLIENT_ID": settings.auth_client_id,
        "AUTH_JWKS_FILE": settings.auth_jwks_file,
    }
    run = subprocess.run(
        [
            sys.executable,
            "-I",
            "-S",
            "-c",
            f"import sys; sys.path[:0] = [{str(task)!r}, {str(_lambda_runtime(tmp_path))!r}]\n"
            + LAMBDA_RUNTIME,
        ],
        input="".join(json.dumps(event) + "\n" for event in events),
        capture_output=True,
        text=True,
        cwd=task,
        env=env,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr[-2000:]
    openapi, bad_booking, unsigned, sms_reply, inbox = map(json.loads, run.stdout.splitlines())

    assert openapi["statusCode"] == 200
    assert "Booking" in json.loads(openapi["body"])["components"]["schemas"]
    assert bad_booking["statusCode"] == 400
    assert json.loads(bad_booking["body"])["error"]["field"] == "name"
    assert unsigned["statusCode"] == 403
    assert sms_reply["statusCode"] == 200 and "<Message" in sms_reply["body"]
    assert inbox["statusCode"] == 200
    [case] = json.loads(inbox["body"])["cases"]
    assert case["channels"] == ["sms"]


def test_the_web_app_and_the_local_sign_in_stay_out_of_the_lambda_package(template):
    """The browser's files go to S3 (infra/web.json); the demo sign-in, which mints tokens,
    exists on the local stack only: neither is in the zip Lambda runs."""
    with zipfile.ZipFile(ROOT / "dist" / "prod" / "deployment.zip") as bundle:
        names = bundle.namelist()
    assert not [n for n in names if n.startswith(("web/", "scripts/", "node_modules/"))]
    assert not [n for n in names if n.endswith((".html", ".css")) or "web_local" in n]
    assert "app.py" in names


def test_the_web_app_is_served_by_cloudfront_with_the_api_on_the_same_origin(template):
    from app import app

    resources = template["Resources"]
    config = resources["WebDistribution"]["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    assert origins["web"]["OriginAccessControlId"] == {"Fn::GetAtt": ["WebOriginAccess", "Id"]}
    assert origins["api"]["OriginPath"] == {"Ref": "ApiBasePath"}
    behaviors = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    for path in app.routes:
        first = path.split("/")[1]
        if first != "webhooks":  # Twilio and SES call the API itself
            assert f"/{first}*" in behaviors or f"/{first}" in behaviors, path
    assert {b["TargetOriginId"] for b in behaviors.values()} == {"api"}
    assert config["DefaultCacheBehavior"]["ResponseHeadersPolicyId"] == {"Ref": "WebHeaders"}
    bucket = resources["WebBucket"]["Properties"]["PublicAccessBlockConfiguration"]
    assert all(bucket.values())
    client = resources["AppClient"]["Properties"]
    assert client["AllowedOAuthFlows"] == ["code"] and client["GenerateSecret"] is False
    assert client["CallbackURLs"] == [{"Fn::Sub": "https://${WebDistribution.DomainName}/app/"}]
