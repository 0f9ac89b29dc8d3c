"""The web app's sources: both languages complete, every string the code asks for present, and
no way for data to become HTML (the CSP forbids inline script; this keeps it from being needed)."""

from __future__ import annotations

import json
import re
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "web"
SOURCES = {p: p.read_text() for p in (WEB / "src").glob("*.js")}


def table(name: str) -> dict[str, str]:
    return json.loads((WEB / "src" / "i18n" / f"{name}.json").read_text())


def test_danish_and_english_have_the_same_keys_and_no_empty_string() -> None:
    da, en = table("da"), table("en")
    assert sorted(da) == sorted(en)
    assert [k for k, v in {**da, **en}.items() if not v.strip()] == []


def test_every_fixed_string_the_code_asks_for_is_translated() -> None:
    asked = {k for text in SOURCES.values() for k in re.findall(r"\bt\(\"([\w.]+)\"\)", text)}
    assert asked and asked - set(table("en")) == set()


def test_nothing_is_ever_set_as_html_nor_evaluated() -> None:
    forbidden = re.compile(
        r"innerHTML|outerHTML|dangerouslySetInnerHTML|insertAdjacentHTML|eval\(|new Function"
    )
    assert {p.name: forbidden.findall(t) for p, t in SOURCES.items() if forbidden.search(t)} == {}
    index = (WEB / "index.html").read_text()
    assert "<style" not in index and re.findall(r"<script(?![^>]*\bsrc=)", index) == []
