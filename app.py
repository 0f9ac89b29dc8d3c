"""The Chalice app: its middleware, and one Blueprint per area from chalicelib/routes (provider
webhooks, inbox and cases, webinars, reports, administration, schedules).

Handlers import the modules they use when they run: a Lambda cold start pays only for its first
request's needs (an SMS webhook never loads the inbox, JWT or JSON Schema code), and `import app`
stays close to the floor of importing Chalice and boto3 (see `make bench`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from chalice import Chalice, Response

from chalicelib.channels.http import bounded, error_response, reshape_framework_errors
from chalicelib.logs import configure_logging, request_id
from chalicelib.routes import (
    admin,
    cases,
    chat,
    chat_socket,
    reports,
    safeguarding,
    schedules,
    templates,
    webhooks,
    webinars,
)

app = Chalice(app_name="guidance-contact-centre")
app.api.binary_types.append("message/rfc822")  # raw emails reach the relay route as bytes
app.experimental_feature_flags.update(["WEBSOCKETS"])  # the chat's push (routes/chat_socket)
configure_logging(app)


@app.middleware("http")
def one_error_shape(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Every log line of the request carries its id; every error has our one JSON shape; a
    request outside the edge's bounds (header, path and query sizes) reaches no route."""
    context = getattr(event, "context", None) or {}
    token = request_id.set(context.get("requestId") or uuid.uuid4().hex)
    try:
        refused = bounded(event)
        if refused is not None:
            return error_response(refused.status, refused.code, refused.message)
        return reshape_framework_errors(get_response(event))
    finally:
        request_id.reset(token)


for area in (webhooks, cases, webinars, reports, admin, templates, safeguarding, chat, schedules):
    app.register_blueprint(area.bp)
app.register_blueprint(chat_socket.bp)  # WebSocket handlers: a Blueprint, not an Area
