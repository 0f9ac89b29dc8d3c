"""`make package`: the `prod` stage as one CloudFormation (SAM) template, ready to deploy.

`chalice package` builds the functions, the API and their hand-written least-privilege policy
(.chalice/policy-prod.json); everything else comes from infra/*.json, merged into one template
and handed to chalice with --merge-template, plus the settings the API needs from the stack
(the user pool's issuer and client id) and the SNS subscriptions' topics.

Chalice bundles app.py, chalicelib/ and the requirements' wheels; `finish_bundle` then adds the
request schemas (read at run time from schemas/, one source with the OpenAPI document) and leaves
out the distributions only twilio's asyncio client needs (aiohttp and what it alone pulls in:
about 3 MB of the zip that no code path of ours imports) and the Twilio REST domains we never
call.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from email.parser import HeaderParser
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parent.parent


# Secrets and per-deployment settings: stack parameters, never files in the repository.
SECRETS_ENV = (
    "TWILIO_ACCOUNT_SID",
    "TWILIO_AUTH_TOKEN",
    "TWILIO_FROM_NUMBER",
    "EMAIL_RELAY_SECRET",
    "MANAGER_EMAILS",
    "ALLOWED_COUNTRY_CODES",  # empty: the service's own country (+45)
)
# Distributions the Lambda never imports: twilio's AsyncTwilioHttpClient (we send with the
# synchronous client). Whatever only these require is left out with them.
UNUSED_DISTRIBUTIONS = ("aiohttp", "aiohttp-retry")
# The Twilio REST domains we call (Messages, Calls, Recordings are all under `api`). The library
# ships about forty more (Flex, Conversations, TaskRouter...: 18 MB unpacked); its Client imports
# each domain only when its property is first read, so the others are left out of the bundle.
TWILIO_REST_DOMAINS_USED = ("api",)
# API Gateway throttling (requests per second, burst), applied by the stage before a Lambda runs
# or a provider is paid: every route gets the default; the routes anyone may call without
# signing in get their own, tighter budgets, so a script cannot book every seat, flood the
# waitlist, or turn the webhooks into a cost. Twilio and the relay burst a little, citizens not.
DEFAULT_THROTTLE = (50, 100)
PUBLIC_THROTTLES: dict[tuple[str, str], tuple[int, int]] = {
    ("POST", "/webinars/{webinar_id}/bookings"): (2, 5),
    ("POST", "/bookings/{token}/cancel"): (2, 5),
    ("GET", "/webinars"): (10, 20),
    ("GET", "/hours"): (10, 20),
    ("POST", "/webhooks/twilio/sms"): (20, 40),
    ("POST", "/webhooks/twilio/sms/status"): (20, 40),
    ("POST", "/webhooks/twilio/voice"): (10, 20),
    ("POST", "/webhooks/twilio/voice/menu"): (10, 20),
    ("POST", "/webhooks/twilio/voice/recording"): (10, 20),
    ("POST", "/webhooks/twilio/voice/status"): (10, 20),
    ("POST", "/webhooks/email/inbound"): (10, 20),
}
LAMBDA_MARKERS = {"python_version": "3.11", "sys_platform": "linux", "extra": ""}


def _canonical(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _distributions(bundle: zipfile.ZipFile) -> dict[str, tuple[str, set[str]]]:
    """Each bundled distribution's dist-info folder and the distributions it requires on Lambda."""
    found: dict[str, tuple[str, set[str]]] = {}
    for name in bundle.namelist():
        folder, _, leaf = name.partition("/")
        if not folder.endswith(".dist-info") or leaf != "METADATA":
            continue
        # METADATA is RFC 822 headers, as importlib.metadata reads it
        metadata = HeaderParser().parsestr(bundle.read(name).decode("utf-8"))
        requires = set()
        for line in metadata.get_all("Requires-Dist") or []:
            requirement = Requirement(line)
            if requirement.marker is None or requirement.marker.evaluate(LAMBDA_MARKERS):
                requires.add(_canonical(requirement.name))
        found[_canonical(metadata["Name"])] = (folder, requires)
    return found


def removable_distributions(bundle: zipfile.ZipFile) -> set[str]:
    """The unused distributions plus those nothing else still in the bundle requires."""
    found = _distributions(bundle)
    removed = {name for name in map(_canonical, UNUSED_DISTRIBUTIONS) if name in found}
    while True:
        kept = set(found) - removed
        still_needed = set().union(*(found[name][1] for name in kept))
        orphans = {
            dependency
            for name in removed
            for dependency in found[name][1]
            if dependency in found and dependency not in still_needed
        } - removed
        if not orphans:
            return removed
        removed |= orphans


def unused_twilio_domain(name: str) -> bool:
    """A file of a Twilio REST domain we never call (`twilio/rest/<domain>/...`)."""
    parts = name.split("/")
    return (
        len(parts) > 3
        and parts[:2] == ["twilio", "rest"]
        and parts[2] not in TWILIO_REST_DOMAINS_USED
    )


def bytecode(name: str, source: bytes) -> tuple[str, bytes]:
    """Where CPython looks for the compiled `name` (a .py path in the bundle), and its bytes.

    Lambda's /var/task is read-only, so without these every cold start compiles our modules
    afresh. Unchecked hashes: the bundle's files never change, and their zip timestamps mean
    nothing (a source whose bytecode does not match this Python is simply compiled as before)."""
    import importlib.util

    code = compile(source, name, "exec", dont_inherit=True)
    data = importlib._bootstrap_external._code_to_hash_pyc(  # type: ignore[attr-defined]  # the one API that writes a hash-based .pyc from bytes (py_compile needs files)
        code, importlib.util.source_hash(source), checked=False
    )
    return importlib.util.cache_from_source(name), bytes(data)


def finish_bundle(path: Path) -> None:
    """Rewrite chalice's deployment.zip: schemas/ in, the unused distributions out, and our own
    modules (app.py, chalicelib/) with their bytecode."""
    with zipfile.ZipFile(path) as bundle:
        found = _distributions(bundle)
        dropped: set[str] = set()
        for name in removable_distributions(bundle):
            folder = found[name][0]
            record = bundle.read(f"{folder}/RECORD").decode("utf-8").splitlines()
            dropped |= {line.split(",", 1)[0] for line in record if line}
        entries = [
            (info, bundle.read(info))
            for info in bundle.infolist()
            if info.filename not in dropped
            and not unused_twilio_domain(info.filename)
            and not info.filename.startswith("schemas/")
            and "__pycache__/" not in info.filename  # the working tree's, replaced by ours
        ]
    finished = path.with_suffix(".tmp")
    with zipfile.ZipFile(finished, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as out:
        for info, data in entries:
            out.writestr(info, data, compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)
            ours = info.filename == "app.py" or info.filename.startswith("chalicelib/")
            if ours and info.filename.endswith(".py"):
                name, compiled = bytecode(info.filename, data)
                pyc = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                pyc.external_attr = 0o644 << 16
                out.writestr(pyc, compiled, zipfile.ZIP_DEFLATED, 9)
        for schema in sorted((ROOT / "schemas").glob("*.json")):
            info = zipfile.ZipInfo(f"schemas/{schema.name}", date_time=(1980, 1, 1, 0, 0, 0))
            info.external_attr = 0o644 << 16
            out.writestr(info, schema.read_bytes(), zipfile.ZIP_DEFLATED, 9)
    finished.replace(path)


def method_settings() -> list[dict]:
    """The stage's MethodSettings: the default for every method, then each public route's own
    (API Gateway writes a path's slashes as ~1)."""

    def setting(method: str, path: str, rate: int, burst: int) -> dict:
        return {
            "HttpMethod": method,
            "ResourcePath": path,
            "ThrottlingRateLimit": rate,
            "ThrottlingBurstLimit": burst,
        }

    return [setting("*", "/*", *DEFAULT_THROTTLE)] + [
        setting(method, "/" + path.replace("/", "~1"), rate, burst)
        for (method, path), (rate, burst) in PUBLIC_THROTTLES.items()
    ]


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
    # Twilio signs the URL it calls: the API's stable public address (a custom domain, or the
    # EndpointURL output of a first deploy). Not derived from RestAPI: the API refers to the
    # function and the function would refer to the API, a cycle CloudFormation refuses.
    merged["Parameters"]["PublicBaseUrl"] = {
        "Type": "String",
        "AllowedPattern": "^https://[^ ]+[^/]$",
        "Description": "PUBLIC_BASE_URL: the https address Twilio calls, without a trailing /",
    }
    merged["Parameters"]["ApiBasePath"] = {
        "Type": "String",
        "Default": "/api",
        "AllowedPattern": "^(/[A-Za-z0-9_-]+)?$",
        "Description": "The path of PublicBaseUrl (/api for the execute-api address, empty "
        "for a custom domain mapped to the stage): the web app's CloudFront origin path",
    }
    # The chat's WebSocket API management endpoint (https://<id>.execute-api.<region>
    # .amazonaws.com/api, the WebSocketConnectEndpoint output of a first deploy); empty: no push,
    # the widgets' long poll alone. A parameter for the same reason as PublicBaseUrl: the API
    # refers to its functions, so a function referring to it would be a cycle.
    merged["Parameters"]["ChatWebsocketEndpoint"] = {
        "Type": "String",
        "Default": "",
        "Description": "CHAT_WEBSOCKET_ENDPOINT: where chat messages are pushed to open widgets",
    }
    variables: dict = {name: {"Ref": _parameter(name)} for name in SECRETS_ENV}
    variables.update(
        {
            "AUTH_ISSUER": {
                "Fn::Sub": "https://cognito-idp.${AWS::Region}.amazonaws.com/${UserPool}"
            },
            "AUTH_CLIENT_ID": {"Ref": "AppClient"},
            "PUBLIC_BASE_URL": {"Ref": "PublicBaseUrl"},
            # Named by the stack (parameters, or generated: S3 names are global), never fixed.
            "TABLE_NAME": {"Ref": "CasesTable"},
            "INBOUND_BUCKET": {"Ref": "InboundBucket"},
            "MAIL_DOMAIN": {"Ref": "MailDomain"},
            "CHAT_WEBSOCKET_ENDPOINT": {"Ref": "ChatWebsocketEndpoint"},
        }
    )
    # Every function, the API's and each scheduled or event one, gets the same settings.
    merged["Globals"] = {"Function": {"Environment": {"Variables": variables}}}
    for function, topic in _sns_subscriptions(merged["Resources"]).items():
        merged["Resources"][function] = {"DependsOn": [topic]}  # the topic must exist first
    # Deep-merged by chalice into the API it generates (logical id RestAPI): its stage throttles.
    merged["Resources"]["RestAPI"] = {"Properties": {"MethodSettings": method_settings()}}
    web_app(merged["Resources"])
    return merged


# CloudFront's managed policies: no caching, and every viewer header (Authorization included,
# allowed with caching off) but Host, which API Gateway's own domain needs.
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"


def api_paths() -> list[str]:
    """CloudFront path patterns for every route the web app calls: each first path segment
    of the app's routes, the provider webhooks excepted (Twilio and SES call the API directly)."""
    sys.path.insert(0, str(ROOT))
    from app import app

    firsts = sorted({path.split("/")[1] for path in app.routes} - {"webhooks"})
    return [f"/{first}" if "." in first else f"/{first}*" for first in firsts]


def web_app(resources: dict) -> None:
    """The API as a second origin of the app's distribution (same origin: no CORS, and the CSP's
    connect-src stays 'self'), and the hosted UI's app client: code flow, PKCE by the app."""
    # The API's address from PublicBaseUrl, not from RestAPI: the app client's callback names
    # the distribution, and the functions name the app client (a cycle through RestAPI).
    distribution = resources["WebDistribution"]["Properties"]["DistributionConfig"]
    distribution["Origins"].append(
        {
            "Id": "api",
            "DomainName": {"Fn::Select": [2, {"Fn::Split": ["/", {"Ref": "PublicBaseUrl"}]}]},
            "OriginPath": {"Ref": "ApiBasePath"},
            "CustomOriginConfig": {"OriginProtocolPolicy": "https-only"},
        }
    )
    distribution["CacheBehaviors"] = [
        {
            "PathPattern": pattern,
            "TargetOriginId": "api",
            "ViewerProtocolPolicy": "https-only",
            "AllowedMethods": ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"],
            "CachePolicyId": CACHING_DISABLED,
            "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST,
        }
        for pattern in api_paths()
    ]
    app_url = {"Fn::Sub": "https://${WebDistribution.DomainName}/app/"}
    resources["AppClient"]["Properties"].update(
        {
            "AllowedOAuthFlowsUserPoolClient": True,
            "AllowedOAuthFlows": ["code"],
            "AllowedOAuthScopes": ["openid"],
            "SupportedIdentityProviders": ["COGNITO"],
            "CallbackURLs": [app_url],
            "LogoutURLs": [app_url],
        }
    )


def _sns_subscriptions(resources: dict) -> dict[str, str]:
    """Chalice's logical id of each SNS-triggered function, and the infra topic it listens to."""
    from chalice.app import SNSEventConfig
    from chalice.utils import to_cfn_resource_name

    sys.path.insert(0, str(ROOT))
    from app import app

    topics = {
        resource["Properties"]["TopicName"]: name
        for name, resource in resources.items()
        if resource["Type"] == "AWS::SNS::Topic"
    }
    return {
        to_cfn_resource_name(source.name): topics[source.topic]
        for source in app.event_sources
        if isinstance(source, SNSEventConfig)
    }


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
    finish_bundle(out / "prod" / "deployment.zip")
    print(f"packaged: {out / 'prod' / 'sam.json'} and {out / 'prod' / 'deployment.zip'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
