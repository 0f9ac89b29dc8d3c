"""`make package`: the `prod` stage as one CloudFormation (SAM) template, ready to deploy.

`chalice package` builds the functions, the API and their hand-written least-privilege policy
(.chalice/policy-prod.json); everything else comes from infra/*.json, merged into one template
and handed to chalice with --merge-template, plus the settings the API needs from the stack
(the user pool's issuer and client id) and the SNS subscriptions' topics.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


# Secrets and per-deployment settings: stack parameters, never files in the repository.
SECRETS_ENV = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "EMAIL_RELAY_SECRET",
    "MANAGER_EMAILS",
)
FUNCTIONS = {  # chalice's logical ids, and the topic an SNS-triggered function subscribes to
    "APIHandler": None,
    "EmailFromSes": "InboundMailTopic",
    "SesNotification": "SesNotifications",
    "RouteWaitingCases": None,
    "WebinarReminders": None,
    "WeeklyServiceReport": None,
}


def _parameter(env_name: str) -> str:
    return "".join(part.title() for part in env_name.split("_"))


def merged_infra() -> dict:
    merged: dict = {"Resources": {}, "Outputs": {}, "Parameters": {}}
    for path in sorted((ROOT / "infra").glob("*.json")):
        part = json.loads(path.read_text())
        for section in merged:
            merged[section].update(part.get(section, {}))
    for name in SECRETS_ENV:
        merged["Parameters"][_parameter(name)] = {
            "Type": "String",
            "Default": "",
            "NoEcho": "TOKEN" in name or "SECRET" in name,
            "Description": f"{name} for the functions",
        }
    variables: dict = {name: {"Ref": _parameter(name)} for name in SECRETS_ENV}
    variables.update(
        {
            "AUTH_ISSUER": {
                "Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
            },
            "AUTH_CLIENT_ID": {"Ref": "AppClient"},
            "PUBLIC_BASE_URL": {
                "Fn::Sub": "https://${RestAPI}.execute-api.${AWS::Region}.${AWS::URLSuffix}/api"
            },
        }
    )
    for function, topic in FUNCTIONS.items():
        extra: dict = {"Properties": {"Environment": {"Variables": variables}}}
        if topic:  # its subscription needs the topic to exist first
            extra["DependsOn"] = [topic]
        merged["Resources"][function] = extra
    return merged


def main() -> int:
    out = ROOT / "dist"
    out.mkdir(exist_ok=True)
    infra = out / "infra-merged.json"
    infra.write_text(json.dumps(merged_infra(), indent=2))
    env = {**os.environ, "AWS_DEFAULT_REGION": os.environ.get("AWS_DEFAULT_REGION", "eu-west-1")}
    chalice = str(Path(sys.executable).parent / "chalice")
    subprocess.run(
        [chalice, "package", "--stage", "prod", "--merge-template", str(infra), str(out / "prod")],
        cwd=ROOT,
        env=env,
        check=True,
    )
    print(f"packaged: {out / 'prod' / 'sam.json'} and {out / 'prod' / 'deployment.zip'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
