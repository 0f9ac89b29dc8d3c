"""The citizens' chat page and widget (web/chat/) on the local stack, at /chat/ beside the API,
with the headers the deployed static files get: a strict CSP (no inline code), no caching, no
referrer. Only these few files, by name: never a path from the request."""

from __future__ import annotations

from pathlib import Path

FOLDER = Path(__file__).resolve().parent.parent / "web" / "chat"
FILES = {
    "/chat/": ("chat.html", "text/html; charset=utf-8"),
    "/chat/chat.html": ("chat.html", "text/html; charset=utf-8"),
    "/chat/chat.js": ("chat.js", "text/javascript; charset=utf-8"),
    "/chat/chat.css": ("chat.css", "text/css; charset=utf-8"),
    "/chat/widget.js": ("widget.js", "text/javascript; charset=utf-8"),
}
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; "
        "base-uri 'none'; form-action 'none'"
    ),
    "Cache-Control": "no-store",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Access-Control-Allow-Origin": "*",  # the widget's module is loaded by other sites' pages
}


def chat_file(path: str) -> tuple[int, dict[str, str], bytes] | None:
    """(status, headers, body) for one of the page's files, by name; None for any other path
    (the chat's API routes share the /chat/ prefix and are left to the app)."""
    found = FILES.get(path.split("?", 1)[0])
    if found is None:
        return None
    return 200, {**HEADERS, "Content-Type": found[1]}, (FOLDER / found[0]).read_bytes()
