"""The OpenAPI document covers every route and shares its request schemas with the validator."""

from __future__ import annotations

import json

import pytest

from chalicelib.channels.openapi import document, request_schemas
from chalicelib.channels.validation import InvalidField, json_body


def test_every_route_is_documented_with_the_schemas_the_validator_uses():
    import app

    doc = document(app.app.routes)
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    assert documented == {(m, p) for p, ops in app.app.routes.items() for m in ops}
    booking = doc["paths"]["/webinars/{webinar_id}/bookings"]["post"]["requestBody"]
    ref = booking["content"]["application/json"]["schema"]["$ref"]
    assert doc["components"]["schemas"][ref.rsplit("/", 1)[-1]] == request_schemas()["booking"]
    assert doc["openapi"].startswith("3.1")


def test_the_document_is_served(api):
    answer = api.get("/openapi.json")
    assert answer.status_code == 200 and json.loads(answer.body)["paths"]


def test_whole_floats_become_integers_and_broken_text_is_refused():
    body = json_body(b'{"max_active_cases": 5.0}', "practitioner_update")
    assert body == {"max_active_cases": 5} and isinstance(body["max_active_cases"], int)
    with pytest.raises(InvalidField) as refused:
        json_body(b'{"display_name": "\\ud800x"}', "practitioner_update")
    assert refused.value.details == {"field": "display_name"}


def test_the_committed_document_is_the_served_one():
    """docs/openapi.json is the contract clients read; `make openapi` rewrites it."""
    from pathlib import Path

    import app

    committed = json.loads(
        (Path(__file__).resolve().parents[2] / "docs" / "openapi.json").read_text()
    )
    assert committed == json.loads(json.dumps(document(app.app.routes)))
