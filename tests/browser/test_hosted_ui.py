"""Deployed sign-in: Cognito's hosted UI with the authorization code flow and PKCE, played by a
stand-in for Cognito inside the browser (Playwright routes), against the real local API. The
page carries the deployed CSP (connect-src 'self' and the Cognito domain only)."""

from __future__ import annotations

import base64
import hashlib
import json
from urllib.parse import parse_qs, urlsplit

from playwright.sync_api import expect

from scripts import web_local
from scripts.auth_token import issue_token
from tests.conftest import AUTH_DIR

COGNITO = "https://helpline.auth.eu-west-1.amazoncognito.test"


def test_the_code_flow_with_pkce_signs_in_and_leaves_no_code_or_token_in_the_url(stack, page):
    redirect = stack + "/app/"
    config = {
        "auth": "cognito",
        "api": "",
        "domain": COGNITO,
        "client_id": "web-client",
        "redirect_uri": redirect,
    }
    deployed_csp = web_local.CSP.replace("connect-src 'self'", f"connect-src 'self' {COGNITO}")

    def app_page(route):
        answer = route.fetch()
        route.fulfill(
            response=answer, headers={**answer.headers, "content-security-policy": deployed_csp}
        )

    asked: dict[str, dict] = {}

    def cognito(route):
        request = route.request
        if request.url.startswith(COGNITO + "/oauth2/authorize"):
            asked["authorize"] = {k: v[0] for k, v in parse_qs(urlsplit(request.url).query).items()}
            route.fulfill(status=200, content_type="text/plain", body="hosted UI")
            return
        form = {k: v[0] for k, v in parse_qs(request.post_data or "").items()}
        asked["token"] = form
        token = issue_token(AUTH_DIR, "p-sara", "practitioner")
        route.fulfill(
            status=200,
            json={
                "access_token": token,
                "id_token": token,
                "expires_in": 3600,
                "token_type": "Bearer",
            },
            headers={"Access-Control-Allow-Origin": stack},
        )

    page.route("**/app/config.json", lambda route: route.fulfill(json=config))
    page.route(lambda url: urlsplit(url).path == "/app/", app_page)  # with or without ?code=
    page.route(f"{COGNITO}/**", cognito)
    page.goto(redirect)
    page.get_by_role("button", name="Sign in with your organisation account").click()
    page.wait_for_url(f"{COGNITO}/**")
    authorize = asked["authorize"]
    assert authorize["response_type"] == "code" and authorize["client_id"] == "web-client"
    assert authorize["redirect_uri"] == redirect and authorize["code_challenge_method"] == "S256"
    # Cognito sends the browser back with a one-time code
    page.goto(f"{redirect}?code=one-time-code&state={authorize['state']}")
    expect(page.get_by_role("heading", name="Inbox")).to_be_visible()
    token = asked["token"]
    assert token["grant_type"] == "authorization_code" and token["code"] == "one-time-code"
    verifier = token["code_verifier"].encode()
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier).digest()).rstrip(b"=").decode()
    assert challenge == authorize["code_challenge"] and len(verifier) >= 43
    assert "code=" not in page.url and "eyJ" not in page.url
    expect(page.get_by_text("p-sara (practitioner)")).to_be_visible()
    stored = json.loads(page.evaluate("sessionStorage.session"))
    assert stored["role"] == "practitioner" and "pkce" not in page.evaluate(
        "Object.keys(sessionStorage)"
    )


def test_a_code_with_a_state_the_app_did_not_send_signs_nobody_in(stack, page):
    config = {
        "auth": "cognito",
        "api": "",
        "domain": COGNITO,
        "client_id": "web-client",
        "redirect_uri": stack + "/app/",
    }
    page.route("**/app/config.json", lambda route: route.fulfill(json=config))
    tokens: list[str] = []
    page.route(f"{COGNITO}/**", lambda route: (tokens.append(route.request.url), route.abort()))
    page.goto(f"{stack}/app/?code=stolen&state=forged")
    expect(
        page.get_by_role("button", name="Sign in with your organisation account")
    ).to_be_visible()
    assert tokens == [] and "code=" not in page.url
