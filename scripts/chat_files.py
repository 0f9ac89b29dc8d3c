"""The citizens' chat page and widget (web/chat/) on the local stack, at /chat/ beside the API,
with the headers the deployed static files get: a strict CSP (no inline code), no caching, no
referrer. Only these few files, by name: never a path from the request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

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


def with_chat_files(handler: Any) -> Any:
    """`handler` (chalice local's request handler) answering GET /chat/<file> from web/chat."""

    class ChatFiles(handler):  # type: ignore[misc, valid-type]
        def do_GET(self) -> None:
            found = FILES.get(self.path.split("?", 1)[0])
            if found is None:
                super().do_GET()
                return
            body = (FOLDER / found[0]).read_bytes()
            self.send_response(200)
            self.send_header("Content-Type", found[1])
            self.send_header("Content-Length", str(len(body)))
            for name, value in HEADERS.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

    return ChatFiles
