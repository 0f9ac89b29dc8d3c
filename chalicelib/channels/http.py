"""HTTP plumbing shared by every route: JSON errors, form bodies, signed-URL reconstruction, and
the bounds every request is held to before any route sees it."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable, Mapping
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from chalice import Response

from chalicelib.domain.errors import (
    Forbidden,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    ServiceError,
)

log = logging.getLogger("contact-centre")

View = TypeVar("View", bound=Callable[..., Any])

MAX_FORM_BYTES = 64 * 1024  # Twilio's webhooks are a few KB; anything larger is not Twilio
# Above this a form is not even parsed to check its signature: nothing signed can be that big.
MAX_UNVERIFIED_FORM_BYTES = 1024 * 1024
# Cognito's tokens are 1-3 KB; 8 KB leaves room for a token with many groups. Longer values only
# cost the routes that read them (JWT parsing, signature comparison) and are refused first.
MAX_HEADER_BYTES = 8 * 1024
# Our ids, tokens and weeks are under 100 characters; a longer one names nothing we hold, and
# DynamoDB would refuse it as a key (2 KB) with an error the caller should never see.
MAX_PATH_PARAMETER_CHARS = 256
MAX_QUERY_VALUE_CHARS = 2048


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> Response:
    headers: dict[str, str | list[str]] = {"Content-Type": "application/json"}
    if details and "retry_after" in details:  # a 429's: when to ask again, in seconds
        headers["Retry-After"] = str(details["retry_after"])
    return Response(
        body=json.dumps({"error": {"code": code, "message": message, **(details or {})}}),
        status_code=status,
        headers=headers,
    )


def json_errors(view: View) -> View:
    """Turn the domain's errors into `{"error": {...}}` answers with their 4xx status. Applied
    to every route by `chalicelib.routes.edge.Area`: the one place errors are mapped."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ServiceError as error:
            log.info("request refused", extra={"code": error.code, "status": error.status})
            return error_response(error.status, error.code, error.message, error.details)

    return wrapper  # type: ignore[return-value]  # functools.wraps made it a View; mypy can't see


def reshape_framework_errors(response: Response) -> Response:
    """Chalice's own answers (415, 405, 500...) come as {"Code", "Message"}; use our one shape."""
    body = response.body
    if isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = "".join("_" + c.lower() if c.isupper() else c for c in body["Code"]).lstrip("_")
        return error_response(response.status_code, code, str(body["Message"]))
    return response


def as_bytes(raw_body: bytes | str | None) -> bytes:
    if raw_body is None:
        return b""
    return raw_body.encode("utf-8", "surrogatepass") if isinstance(raw_body, str) else raw_body


def signed_form(
    raw_body: bytes | str | None, verify: Callable[[dict[str, str]], None]
) -> dict[str, str]:
    """An application/x-www-form-urlencoded body as a dict (blank values kept: they are signed),
    returned only once `verify` has accepted its signature.

    The signature comes first: a stranger's request is a 403 whatever its body, so the size and
    encoding answers (413, 400) are only ever given to the signer. The body is parsed leniently
    for the check (undecodable bytes replaced, so they cannot match a signature), and a body too
    large to have been signed is not parsed at all."""
    raw = as_bytes(raw_body)
    if len(raw) > MAX_UNVERIFIED_FORM_BYTES:
        raise Forbidden("Missing or invalid request signature.", code="bad_signature")
    text = raw.decode("utf-8", "replace")
    fields = dict(parse_qsl(text, keep_blank_values=True))
    verify(fields)
    if len(raw) > MAX_FORM_BYTES:
        raise PayloadTooLarge(f"The form body is larger than {MAX_FORM_BYTES} bytes.")
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput("The form body is not UTF-8.") from error
    return fields


def with_query(url: str, query: Mapping[str, str] | None) -> str:
    return f"{url}?{urlencode(query)}" if query else url


class HeaderTooLarge(ServiceError, status=431, code="header_too_large"):
    """A request header over MAX_HEADER_BYTES (431)."""


def bounded(request: Any) -> ServiceError | None:
    """The error for a request outside the bounds every route assumes, else None.

    Checked once, before routing, so no route has to: an oversized header is a 431, an id in the
    path longer than any we issue is a 404 (it names nothing), an oversized query value a 400."""
    for name, value in (getattr(request, "headers", None) or {}).items():
        if len(value.encode("utf-8", "surrogatepass")) > MAX_HEADER_BYTES:
            return HeaderTooLarge(f"The header {name[:40]} is over {MAX_HEADER_BYTES} bytes.")
    for value in (getattr(request, "uri_params", None) or {}).values():
        if len(value) > MAX_PATH_PARAMETER_CHARS:
            return NotFound("Nothing here has an id that long.")
    for name, value in (getattr(request, "query_params", None) or {}).items():
        if len(name) + len(value) > MAX_QUERY_VALUE_CHARS:
            return InvalidInput(
                f"The query parameter {name[:40]} is over {MAX_QUERY_VALUE_CHARS} characters.",
                code="invalid_query",
            )
    return None
