"""HTTP plumbing shared by every route: JSON errors, form bodies, signed-URL reconstruction."""

from __future__ import annotations

import functools
import json
import logging
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import parse_qsl, urlencode

from chalice import Response

from chalicelib.errors import InvalidInput, PayloadTooLarge, ServiceError

log = logging.getLogger("contact-centre")

View = TypeVar("View", bound=Callable[..., Any])

MAX_FORM_BYTES = 64 * 1024  # Twilio's webhooks are a few KB; anything larger is not Twilio


def error_response(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> Response:
    return Response(
        body=json.dumps({"error": {"code": code, "message": message, **(details or {})}}),
        status_code=status,
        headers={"Content-Type": "application/json"},
    )


def json_errors(view: View) -> View:
    """Turn the domain's errors into `{"error": {...}}` answers with their 4xx status."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return view(*args, **kwargs)
        except ServiceError as error:
            log.info("request refused", extra={"code": error.code, "status": error.status})
            return error_response(error.status, error.code, error.message, error.details)

    return wrapper  # type: ignore[return-value]


def reshape_framework_errors(response: Response) -> Response:
    """Chalice's own answers (415, 405, 500...) come as {"Code", "Message"}; use our one shape."""
    body = response.body
    if isinstance(body, dict) and set(body) == {"Code", "Message"}:
        code = "".join("_" + c.lower() if c.isupper() else c for c in body["Code"]).lstrip("_")
        return error_response(response.status_code, code, str(body["Message"]))
    return response


def form_fields(raw_body: bytes | str | None) -> dict[str, str]:
    """An application/x-www-form-urlencoded body as a dict (blank values kept: they are signed)."""
    if raw_body is None:
        return {}
    if isinstance(raw_body, str):
        raw_body = raw_body.encode("utf-8")
    if len(raw_body) > MAX_FORM_BYTES:
        raise PayloadTooLarge(f"The form body is larger than {MAX_FORM_BYTES} bytes.")
    try:
        text = raw_body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidInput("The form body is not UTF-8.") from error
    return dict(parse_qsl(text, keep_blank_values=True))


def with_query(url: str, query: dict[str, str] | None) -> str:
    return f"{url}?{urlencode(query)}" if query else url
