"""The deployed web app: its files in the web bucket (moto) with the hosted UI's config, and
its CloudFront Content-Security-Policy the one the local stack sends, plus Cognito's origin."""

from __future__ import annotations

import json
import re
from pathlib import Path

import boto3
from moto import mock_aws

from scripts import web_local
from scripts.deploy_web import IMMUTABLE, REVALIDATE, upload, web_config

ROOT = Path(__file__).resolve().parents[2]
OUTPUTS = {
    "AuthDomain": "https://helpline.auth.eu-west-1.amazoncognito.com",
    "AppClientId": "abc123",
    "WebUrl": "https://d111.cloudfront.net/app/",
    "WebBucketName": "web-bucket",
}


@mock_aws
def test_the_build_goes_under_app_with_the_hosted_ui_config(tmp_path: Path) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html>")
    (tmp_path / "assets" / "index-abc.js").write_text("export {}")
    (tmp_path / "config.json").write_text('{"auth": "local", "api": ""}')
    s3 = boto3.client("s3", region_name="eu-west-1")
    s3.create_bucket(
        Bucket="web-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"}
    )
    keys = upload(s3, "web-bucket", tmp_path, web_config(OUTPUTS))
    assert keys == ["app/assets/index-abc.js", "app/config.json", "app/index.html"]
    config = json.loads(s3.get_object(Bucket="web-bucket", Key="app/config.json")["Body"].read())
    assert config == {
        "auth": "cognito",  # never the local sign-in
        "api": "",
        "domain": OUTPUTS["AuthDomain"],
        "client_id": "abc123",
        "redirect_uri": OUTPUTS["WebUrl"],
    }
    index = s3.get_object(Bucket="web-bucket", Key="app/index.html")
    script = s3.get_object(Bucket="web-bucket", Key="app/assets/index-abc.js")
    assert (index["ContentType"], index["CacheControl"]) == ("text/html", REVALIDATE)
    assert script["ContentType"] == "text/javascript" and script["CacheControl"] == IMMUTABLE


def test_cloudfronts_csp_is_the_local_one_with_only_cognito_added() -> None:
    template = json.loads((ROOT / "infra" / "web.json").read_text())
    headers = template["Resources"]["WebHeaders"]["Properties"]["ResponseHeadersPolicyConfig"]
    policy = headers["SecurityHeadersConfig"]["ContentSecurityPolicy"]
    deployed = policy["ContentSecurityPolicy"]["Fn::Sub"]
    cognito = " https://${AuthDomainPrefix}.auth.${AWS::Region}.amazoncognito.com"
    assert cognito in deployed and policy["Override"] is True
    assert deployed.replace(cognito, "") == web_local.CSP
    assert not re.search(r"unsafe-(inline|eval)|\*", web_local.CSP)
