"""Web chat for citizens: anonymous, known by the conversation's token only. Public routes, with
CORS (deployed, the page is served from another origin; no cookies are used, the token is in the
path); the address counted against the limits is API Gateway's `sourceIp`, never a header the
sender sets."""

from __future__ import annotations

from chalice import Response

from chalicelib.routes.edge import JSON, Area, created, no_content

bp = Area(__name__)
CHAT = "/chat/conversations"


def _address() -> str:
    context = bp.current_request.context or {}
    return str((context.get("identity") or {}).get("sourceIp") or "unknown")


@bp.route(CHAT, methods=["POST"], content_types=JSON, cors=True)
def start_chat() -> Response:
    from chalicelib.channels import views
    from chalicelib.domain import chat

    request = bp.body("chat_start")
    started = chat.start(bp.deps, _address(), request.get("language"), request.get("body"))
    return created(
        {
            "token": started.token,
            "language": started.language,
            "open_now": started.open_now,
            "next_opening": started.next_opening.isoformat() if started.next_opening else None,
            "notice": started.notice,
            "message": views.chat_message(started.first) if started.first else None,
        }
    )


@bp.route(CHAT + "/{token}/messages", methods=["POST"], content_types=JSON, cors=True)
def post_chat_message(token: str) -> Response:
    from chalicelib.domain import chat

    said = chat.post(bp.deps, token, bp.body("chat_message")["body"])
    return created({"id": said.id, "at": said.at.isoformat().replace("+00:00", "Z")})


@bp.route(CHAT + "/{token}/messages", methods=["GET"], cors=True)
def chat_messages(token: str) -> Response:
    from chalicelib.channels import views
    from chalicelib.domain import chat

    params = bp.params("chat_poll")
    wait = float(params["wait"]) if "wait" in params else None
    shown = {"true": True, "false": False}.get(params.get("typing", ""))
    after = int(params["after"]) if "after" in params else None
    found, typing = chat.messages(bp.deps, token, after, wait, shown)
    body = {"messages": [views.chat_message(m) for m in found], "typing": typing}
    return Response(body=body, status_code=200, headers={"Cache-Control": "no-store"})


@bp.route(CHAT + "/{token}/follow-up", methods=["POST"], content_types=JSON, cors=True)
def chat_follow_up(token: str) -> Response:
    from chalicelib.domain import chat

    request = bp.body("chat_follow_up")  # `consent: true` is required by the schema
    kind = "sms" if "sms" in request else "email"
    chat.follow_up(bp.deps, token, kind, request[kind])
    return no_content()  # the same answer whether the address was new to us or not


@bp.route(CHAT + "/{token}/rating", methods=["POST"], content_types=JSON, cors=True)
def rate_chat(token: str) -> Response:
    """The satisfaction card's answer: once, for a question asked in this conversation."""
    from chalicelib.domain import satisfaction

    request = bp.body("chat_rating")
    satisfaction.answer_chat(bp.deps, token, int(request["rating"]), request.get("comment"))
    return no_content()


@bp.route(CHAT + "/{token}/typing", methods=["POST"], cors=True)
def chat_typing(token: str) -> Response:
    from chalicelib.domain import chat

    chat.typing(bp.deps, token)
    return no_content()


@bp.route(CHAT + "/{token}/end", methods=["POST"], cors=True)
def end_chat(token: str) -> Response:
    from chalicelib.domain import chat

    chat.end(bp.deps, token)
    return no_content()


@bp.route("/chat/texts", methods=["GET"], cors=True)
def chat_texts() -> Response:
    """The chat page's own words (buttons, labels) from the templates, in the chosen language:
    managers edit them like every other citizen-facing text."""
    from chalicelib.domain import chat

    language, texts = chat.texts(bp.deps, bp.params("chat_texts").get("language"))
    return Response(body={"language": language, "texts": texts}, status_code=200)
