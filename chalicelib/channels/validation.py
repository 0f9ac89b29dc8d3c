"""JSON bodies checked against the schemas in schemas/ (jsonschema, loaded on first use)."""

from __future__ import annotations

import json
from datetime import datetime
from functools import cache
from pathlib import Path
from typing import Any

from chalicelib.domain.errors import InvalidInput, PayloadTooLarge

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"
MAX_JSON_BYTES = 32 * 1024
# Our schemas nest three levels at most; deeper bodies are refused before anything recurses
# over them (the json module and jsonschema recurse, and Python's stack would overflow: a 500).
MAX_JSON_DEPTH = 16


class InvalidField(InvalidInput, code="invalid_field"):
    """One field of a JSON body is wrong; the answer names it in `field`."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.details = {"field": field}


@cache
def _validator(name: str) -> Any:
    from jsonschema import Draft202012Validator

    schema = json.loads((SCHEMAS / f"{name}.json").read_text())
    Draft202012Validator.check_schema(schema)
    return Draft202012Validator(schema)


def _plain(value: Any, path: str) -> Any:
    """Whole floats become ints (JSON Schema counts 3.0 as an integer; storage would not), and
    text that is not valid Unicode (lone surrogates) is refused by name."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError as error:
            raise InvalidField(f"Invalid field '{path}': not valid text.", path) from error
        return value
    if isinstance(value, list):
        return [_plain(v, path) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v, f"{path}.{k}" if path else k) for k, v in value.items()}
    return value


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest (iteratively: this must not overflow the stack)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, level = stack.pop()
        if isinstance(item, dict | list):
            deepest = max(deepest, level)
            if level <= MAX_JSON_DEPTH:
                children = item.values() if isinstance(item, dict) else item
                stack.extend((child, level + 1) for child in children)
    return deepest


def parse_time(value: str, field: str) -> datetime:
    """An ISO 8601 time with its offset (the schemas check the shape; this checks the date)."""
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError as error:
        raise InvalidField(f"Invalid field '{field}': not a real date and time.", field) from error
    if parsed.tzinfo is None:
        raise InvalidField(f"Invalid field '{field}': give the time zone offset.", field)
    return parsed


def json_body(raw: bytes | str | None, schema: str) -> dict[str, Any]:
    """The parsed body, or a 400 that names the failing field."""
    if raw is None or raw in (b"", ""):
        raise InvalidInput("A JSON body is required.", code="missing_body")
    if len(raw) > MAX_JSON_BYTES:
        raise PayloadTooLarge(f"The body is larger than {MAX_JSON_BYTES} bytes.")
    try:
        parsed = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as error:
        raise InvalidInput("The body is not valid JSON.", code="invalid_json") from error
    if _depth(parsed) > MAX_JSON_DEPTH:
        raise InvalidInput(
            f"The body nests deeper than {MAX_JSON_DEPTH} levels.", code="invalid_json"
        )
    return _checked(_plain(parsed, ""), schema)


def query_params(params: dict[str, str], schema: str) -> dict[str, Any]:
    """A request's query parameters (all text), or a 400 naming the one a schema refuses."""
    return _checked(_plain(dict(params), ""), schema)


def _checked(body: Any, schema: str) -> dict[str, Any]:
    from jsonschema.exceptions import best_match

    invalid = best_match(_validator(schema).iter_errors(body))
    if invalid is not None:
        field = ".".join(str(p) for p in invalid.absolute_path)
        if invalid.validator == "required":
            field = invalid.message.split("'")[1] if "'" in invalid.message else field
        elif invalid.validator == "additionalProperties":
            field = invalid.message.split("'")[1] if "'" in invalid.message else field
        where = f"field '{field}'" if field else "the body"
        raise InvalidField(f"Invalid {where}: {invalid.message}", field or "")
    checked: dict[str, Any] = body  # the schemas' top level is an object
    return checked
