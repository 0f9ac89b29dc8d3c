"""The OpenAPI 3.1 document of every HTTP route, built from the app's own route table and the
request schemas in schemas/ (one source: the validator and the document read the same files)."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
ERROR = {"$ref": "#/components/schemas/Error"}
OBJECT = {"type": "object"}

# (method, path) → (summary, who may call it, request schema or content type, success codes)
ROUTES: dict[tuple[str, str], tuple[str, str, str | None, tuple[int, ...]]] = {
    ("GET", "/health"): ("Liveness", "public", None, (200,)),
    ("GET", "/openapi.json"): ("This document", "public", None, (200,)),
    ("POST", "/webhooks/twilio/sms"): ("Inbound SMS (Twilio)", "twilio", "form", (200,)),
    ("POST", "/webhooks/twilio/sms/status"): (
        "SMS delivery status (Twilio)",
        "twilio",
        "form",
        (204,),
    ),
    ("POST", "/webhooks/twilio/voice"): ("A call arrives (Twilio)", "twilio", "form", (200,)),
    ("POST", "/webhooks/twilio/voice/menu"): (
        "A caller's answer (Twilio)",
        "twilio",
        "form",
        (200,),
    ),
    ("POST", "/webhooks/twilio/voice/recording"): (
        "Voicemail ready (Twilio)",
        "twilio",
        "form",
        (204,),
    ),
    ("POST", "/webhooks/twilio/voice/status"): ("Call status (Twilio)", "twilio", "form", (204,)),
    ("POST", "/webhooks/email/inbound"): (
        "Raw email from a relay (HMAC)",
        "relay",
        "rfc822",
        (200, 201),
    ),
    ("GET", "/inbox"): ("My inbox, or every case for managers", "staff", None, (200,)),
    ("GET", "/canned"): ("Canned responses: the shared ones, then mine", "staff", None, (200,)),
    ("POST", "/canned"): ("A canned response (shared: managers)", "staff", "canned", (201,)),
    ("PUT", "/canned/{canned_id}"): (
        "Edit my canned response (shared: a shared one, managers)",
        "staff",
        "canned",
        (200,),
    ),
    ("DELETE", "/canned/{canned_id}"): (
        "Delete my canned response (?shared=true: a shared one, managers)",
        "staff",
        None,
        (204,),
    ),
    ("GET", "/mentions"): ("Notes that named me (@id), newest first", "staff", None, (200,)),
    ("GET", "/cases/{case_id}"): ("A case and its timeline (read recorded)", "staff", None, (200,)),
    ("GET", "/cases/{case_id}/reads"): ("Who read a case", "manager", None, (200,)),
    ("GET", "/cases/{case_id}/emails/{interaction_id}/attachments/{index}"): (
        "An email's attachment, as a download (application/octet-stream)",
        "staff",
        None,
        (200, 404),
    ),
    ("GET", "/cases/{case_id}/recordings/{recording_sid}"): (
        "A voicemail of the case, fetched from Twilio (audio/mpeg; read recorded)",
        "staff",
        None,
        (200, 404, 502),
    ),
    ("POST", "/cases/{case_id}/claim"): ("Claim a waiting case", "practitioner", None, (200,)),
    ("POST", "/cases/{case_id}/replies"): (
        "Reply on the citizen's channel",
        "staff",
        "reply",
        (201,),
    ),
    ("POST", "/cases/{case_id}/notes"): ("Internal note", "staff", "note", (201,)),
    ("POST", "/cases/{case_id}/presence"): (
        "I am viewing or writing on this case (lapses after 30 s)",
        "staff",
        "presence",
        (200,),
    ),
    ("POST", "/cases/{case_id}/transfer"): (
        "Transfer to a queue or practitioner",
        "staff",
        "transfer",
        (200,),
    ),
    ("POST", "/cases/{case_id}/close"): ("Close with an outcome", "staff", "close", (200,)),
    ("POST", "/cases/{case_id}/reopen"): ("Reopen a closed case", "staff", None, (200,)),
    ("POST", "/cases/{case_id}/link"): (
        "Confirm a possible link: the email's sender is the linked case's citizen",
        "staff",
        None,
        (200,),
    ),
    ("POST", "/cases/{case_id}/link/dismiss"): (
        "Dismiss a possible link",
        "staff",
        None,
        (200,),
    ),
    ("POST", "/cases/{case_id}/callback"): ("Call the citizen back", "practitioner", None, (201,)),
    ("PUT", "/cases/{case_id}/language"): (
        "Correct the case's language (noted on its timeline)",
        "staff",
        "case_language",
        (200,),
    ),
    ("PUT", "/practitioners/me/status"): (
        "Go on or off duty",
        "practitioner",
        "duty_status",
        (200,),
    ),
    ("PUT", "/cases/{case_id}/risk"): (
        "Raise or lower a case's risk, with a reason (timeline, audit)",
        "staff",
        "risk_change",
        (200,),
    ),
    ("POST", "/cases/{case_id}/risk/acknowledge"): (
        "Acknowledge a case's risk alert (supervisors, safeguarding, managers)",
        "staff",
        None,
        (200,),
    ),
    ("GET", "/safeguarding/terms"): ("The risk terms, versioned", "manager", None, (200,)),
    ("PUT", "/safeguarding/terms"): (
        "Replace the risk terms (over the version read; audited)",
        "manager",
        "risk_terms",
        (200,),
    ),
    ("GET", "/hours"): ("The opening hours, open now, next opening", "public", None, (200,)),
    ("PUT", "/hours"): ("Publish new opening hours", "manager", "hours", (200,)),
    ("GET", "/templates"): (
        "Every citizen-facing template per language, as it stands and by default",
        "manager",
        None,
        (200,),
    ),
    ("POST", "/templates/preview"): (
        "A template rendered with sample values; SMS encoding and segments",
        "manager",
        "template_preview",
        (200,),
    ),
    ("PUT", "/templates/{language}/{key}"): (
        "New wording of a template (a new version, audited)",
        "manager",
        "template",
        (200,),
    ),
    ("GET", "/templates/{language}/{key}/versions"): (
        "Every version of a template, oldest first",
        "manager",
        None,
        (200,),
    ),
    ("GET", "/practitioners/me"): ("My profile and duty", "practitioner", None, (200, 404)),
    ("GET", "/practitioners"): ("Practitioners", "manager", None, (200,)),
    ("POST", "/practitioners"): ("Add a practitioner", "manager", "practitioner", (201,)),
    ("PUT", "/practitioners/{practitioner_id}"): (
        "Change a practitioner",
        "manager",
        "practitioner_update",
        (200,),
    ),
    ("GET", "/practitioners/{practitioner_id}/shifts"): (
        "A practitioner's shifts",
        "manager",
        None,
        (200,),
    ),
    ("GET", "/webinars"): ("Upcoming webinars (no attendee data)", "public", None, (200,)),
    ("POST", "/webinars"): ("Create a webinar", "manager", "webinar", (201,)),
    ("PUT", "/webinars/{webinar_id}"): ("Change a webinar", "manager", "webinar_update", (200,)),
    ("POST", "/webinars/{webinar_id}/cancel"): (
        "Cancel a webinar, telling everyone",
        "manager",
        None,
        (200,),
    ),
    ("POST", "/webinars/{webinar_id}/bookings"): (
        "Book a seat",
        "public",
        "booking",
        (202,),  # the same answer whatever the address already holds (docs/api.md)
    ),
    ("GET", "/webinars/{webinar_id}/bookings"): ("Attendees", "manager", None, (200,)),
    ("POST", "/webinars/{webinar_id}/bookings/{booking_id}/attendance"): (
        "Mark attendance",
        "manager",
        "attendance",
        (200,),
    ),
    ("POST", "/bookings/{token}/cancel"): ("Cancel my booking", "public", None, (200,)),
    ("POST", "/chat/conversations"): (
        "Start a web chat (anonymous; its token is the only key to it)",
        "public",
        "chat_start",
        (201,),
    ),
    ("POST", "/chat/conversations/{token}/messages"): (
        "A citizen's chat message",
        "public",
        "chat_message",
        (201,),
    ),
    ("GET", "/chat/conversations/{token}/messages"): (
        "New chat messages after ?after=, held open up to ?wait= s (long poll)",
        "public",
        None,
        (200,),
    ),
    ("POST", "/chat/conversations/{token}/typing"): (
        "The citizen is typing",
        "public",
        None,
        (204,),
    ),
    ("POST", "/chat/conversations/{token}/follow-up"): (
        "Out of hours: be answered by SMS or email (consent required)",
        "public",
        "chat_follow_up",
        (204,),
    ),
    ("POST", "/chat/conversations/{token}/rating"): (
        "Answer the satisfaction card, once",
        "public",
        "chat_rating",
        (204,),
    ),
    ("POST", "/chat/conversations/{token}/end"): ("End the chat", "public", None, (204,)),
    ("GET", "/chat/texts"): ("The chat page's words in a language", "public", None, (200,)),
    ("GET", "/reports/weekly/{week}"): (
        "Weekly service report (JSON, CSV or .html page)",
        "manager",
        None,
        (200,),
    ),
    ("GET", "/reports/weekly/{week}/cases"): (
        "The cases behind a headline figure (?figure=)",
        "manager",
        None,
        (200,),
    ),
    ("GET", "/reports/weekly/{week}/export"): (
        "One CSV row per case of the week, no personal data",
        "manager",
        None,
        (200,),
    ),
    ("GET", "/survey/{token}"): ("The satisfaction page an email links to", "public", None, (200,)),
    ("POST", "/survey/{token}"): ("Answer the satisfaction page", "public", "survey_form", (200,)),
    ("GET", "/contacts/{contact_id}/export"): (
        "Everything stored about a citizen",
        "manager",
        None,
        (200,),
    ),
    ("POST", "/contacts/{contact_id}/erase"): ("Erase a citizen", "manager", None, (200,)),
}
REFUSALS = {
    "public": (429,),  # per-address limits, and throttling in front of anonymous routes
    "twilio": (403,),
    "relay": (403,),
    "staff": (401, 403),
    "practitioner": (401, 403),
    "manager": (401, 403),
}


QUERY_SCHEMAS = {
    "/inbox": "inbox_query",
    "/mentions": "mentions_query",
    "/chat/conversations/{token}/messages": "chat_poll",
    "/chat/texts": "chat_texts",
}  # routes whose query parameters a schema lists


@cache
def request_schemas() -> dict[str, Any]:
    schemas = {}
    for path in sorted(SCHEMAS.glob("*.json")):
        if path.name == "openapi.json":
            continue
        schema = json.loads(path.read_text())
        schema.pop("$schema", None)
        schema.pop("$id", None)
        schemas[path.stem] = schema
    return schemas


def document(routes: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Every route the app has; a route missing from ROUTES is a programming error."""
    paths: dict[str, Any] = {}
    for path, methods in sorted(routes.items()):
        for method in sorted(methods):
            summary, who, body, codes = ROUTES[(method, path)]
            paths.setdefault(path, {})[method.lower()] = _operation(path, summary, who, body, codes)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Guidance contact centre",
            "version": "1.0.0",
            "description": "Cases from SMS, calls, email and webinars in one inbox.",
        },
        "paths": paths,
        "components": {
            "schemas": {
                **{_pascal(k): v for k, v in request_schemas().items()},
                "Error": {
                    "type": "object",
                    "required": ["error"],
                    "properties": {
                        "error": {
                            "type": "object",
                            "required": ["code", "message"],
                            "properties": {
                                "code": {"type": "string"},
                                "message": {"type": "string"},
                                "field": {"type": "string"},
                            },
                        }
                    },
                },
            },
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT (Amazon Cognito)",
                }
            },
        },
    }


def _pascal(name: str) -> str:
    return "".join(part.title() for part in name.split("_"))


def _operation(
    path: str, summary: str, who: str, body: str | None, codes: tuple[int, ...]
) -> dict[str, Any]:
    operation: dict[str, Any] = {
        "summary": summary,
        "parameters": [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _path_parameters(path)
        ],
    }
    if path in QUERY_SCHEMAS and body is None:  # the schema the edge checks them with (GETs)
        query = request_schemas()[QUERY_SCHEMAS[path]]["properties"]
        operation["parameters"] += [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in query.items()
        ]
    if who in ("staff", "practitioner", "manager"):
        operation["security"] = [{"bearer": []}]
    if body == "form":
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {"type": "object", "additionalProperties": {"type": "string"}}
                }
            },
        }
        operation["parameters"].append(
            {
                "name": "X-Twilio-Signature",
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
            }
        )
    elif body == "survey_form":
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "properties": {
                            "rating": {"type": "string", "enum": ["1", "2", "3", "4", "5"]},
                            "comment": {"type": "string", "maxLength": 1000},
                        },
                        "required": ["rating"],
                    }
                }
            },
        }
    elif body == "rfc822":
        operation["requestBody"] = {
            "required": True,
            "content": {"message/rfc822": {"schema": {"type": "string", "format": "binary"}}},
        }
    elif body is not None:
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {"schema": {"$ref": f"#/components/schemas/{_pascal(body)}"}}
            },
        }
    responses: dict[str, Any] = {}
    for code in codes:
        if code == 204:
            responses["204"] = {"description": "Done"}
        elif who == "twilio":
            responses[str(code)] = {
                "description": "TwiML",
                "content": {"text/xml": {"schema": {"type": "string"}}},
            }
        elif path == "/survey/{token}":
            responses[str(code)] = {
                "description": "A page (no script)",
                "content": {"text/html": {"schema": {"type": "string"}}},
            }
        elif path == "/reports/weekly/{week}/export":
            responses[str(code)] = {
                "description": "CSV",
                "content": {"text/csv": {"schema": {"type": "string"}}},
            }
        elif path == "/reports/weekly/{week}":
            responses[str(code)] = {
                "description": "The report",
                "content": {
                    "application/json": {"schema": OBJECT},
                    "text/csv": {"schema": {"type": "string"}},
                    "text/html": {"schema": {"type": "string"}},
                },
            }
        else:
            responses[str(code)] = {
                "description": "OK",
                "content": {"application/json": {"schema": OBJECT}},
            }
    refused: dict[str, Any] = {"application/json": {"schema": ERROR}}
    if path == "/survey/{token}":  # a person reads the page's refusals: HTML, no script
        refused["text/html"] = {"schema": {"type": "string"}}
    for code in (400, 404, 409, 413, 415, 431, 502, 503, *REFUSALS[who]):
        responses.setdefault(str(code), {"description": "Refused", "content": refused})
    operation["responses"] = responses
    return operation


def _path_parameters(path: str) -> list[str]:
    return [part[1:-1] for part in path.split("/") if part.startswith("{")]
