"""What every area's handlers share: the one error mapping, signed forms, the signed-in actor,
validated bodies, query values and TwiML answers."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from chalice import Blueprint, Response

from chalicelib.channels.http import json_errors, signed_form, with_query
from chalicelib.wiring import Services, services

if TYPE_CHECKING:
    from chalicelib.channels.auth import Role
    from chalicelib.domain.model import Actor

FORM = ["application/x-www-form-urlencoded"]
JSON = ["application/json"]
BOTH: tuple[Role, ...] = ("practitioner", "manager")
VOICE = "/webhooks/twilio/voice"


class Area(Blueprint):
    """A blueprint whose every route answers the domain's errors in our one JSON shape: the one
    place errors are mapped (`json_errors`), instead of a decorator on each handler."""

    def route(self, path: str, **kwargs: Any) -> Callable[..., Any]:
        register = super().route(path, **kwargs)

        def decorator(view: Callable[..., Any]) -> Callable[..., Any]:
            register(json_errors(view))
            return view

        return decorator

    @property
    def deps(self) -> Services:
        return services()

    def query(self, name: str) -> str | None:
        params = self.current_request.query_params  # chalice's MultiDict, untyped
        value: str | None = params.get(name) if params is not None else None
        return value

    def params(self, schema: str) -> dict[str, Any]:
        """The query parameters, checked against a schema (400 `invalid_field` naming one)."""
        from chalicelib.channels.validation import query_params

        return query_params(dict(self.current_request.query_params or {}), schema)

    def body(self, schema: str) -> dict[str, Any]:
        from chalicelib.channels.validation import json_body

        return json_body(self.current_request.raw_body, schema)

    def actor(self, *roles: Role) -> Actor:
        """The signed-in user, who must hold one of `roles` (401 without a valid token, else
        403)."""
        from chalicelib.channels import auth
        from chalicelib.domain.model import Actor

        header = self.current_request.headers.get("authorization")
        principal = auth.require(auth.authenticate(header, services().settings), *roles)
        return Actor(principal.user_id, principal.role)

    def twilio_form(self, path: str) -> dict[str, str]:
        """The POSTed fields, once Twilio's signature over our public URL has been checked."""
        from chalicelib.channels import twilio_sms

        request = self.current_request
        settings = services().settings
        url = with_query(settings.public_url(path), request.query_params)
        given = request.headers.get("x-twilio-signature")
        return signed_form(
            request.raw_body,
            lambda form: twilio_sms.verify_signature(settings.twilio_auth_token, url, form, given),
        )


def twiml(text: str) -> Response:
    return Response(body=text, status_code=200, headers={"Content-Type": "text/xml"})


def no_content() -> Response:
    return Response(body="", status_code=204)


def created(body: Any) -> Response:
    return Response(body=body, status_code=201)


def menu_url(deps: Services) -> Callable[[str], str]:
    return lambda step: deps.settings.public_url(f"{VOICE}/menu?step={step}")
