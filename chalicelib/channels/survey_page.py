"""The one-question satisfaction page a survey email links to: plain server-rendered HTML, no
script, no external asset, under a CSP that allows nothing but posting the form back here."""

from __future__ import annotations

from html import escape
from urllib.parse import parse_qs

HEADERS: dict[str, str | list[str]] = {
    "Content-Type": "text/html; charset=utf-8",
    "Content-Security-Policy": (
        "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
    ),
    "Referrer-Policy": "no-referrer",  # the token is in the URL
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}
MAX_FORM = 16 * 1024  # a rating and a 1,000-character comment, percent-encoded


def _page(language: str, title: str, body: str) -> str:
    return (
        f'<!DOCTYPE html><html lang="{escape(language)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{escape(title)}</title></head><body>{body}</body></html>"
    )


def question(language: str, say: dict[str, str]) -> str:
    """`say`: the page's words (templates survey.question, survey.comment, survey.send)."""
    choices = "".join(
        f'<label><input type="radio" name="rating" value="{n}" required> {n}</label> '
        for n in range(1, 6)
    )
    form = (
        f'<form method="post" action=""><fieldset><legend>{escape(say["question"])}</legend>'
        f"{choices}</fieldset><p><label>{escape(say['comment'])}<br>"
        '<textarea name="comment" rows="4" cols="40" maxlength="1000"></textarea></label></p>'
        f'<p><button type="submit">{escape(say["send"])}</button></p></form>'
    )
    return _page(language, say["question"], form)


def message(language: str, text: str) -> str:
    return _page(language, text, f"<p>{escape(text)}</p>")


def form_fields(raw: str | bytes | None) -> dict[str, str] | None:
    """The posted fields (first of each), or None for a body too large or not UTF-8."""
    if raw is not None and len(raw) > MAX_FORM:
        return None
    try:
        text = raw if isinstance(raw, str) else (raw or b"").decode("utf-8")
        parsed = parse_qs(text, keep_blank_values=True, errors="strict", max_num_fields=10)
    except (UnicodeDecodeError, ValueError):
        return None
    return {name: values[0] for name, values in parsed.items()}
