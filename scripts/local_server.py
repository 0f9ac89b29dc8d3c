"""The local stack's API server: the app served exactly as `chalice local` serves it (Chalice's own
request handler, stage config and local gateway), with four differences a working helpline needs:

- a listen backlog of BACKLOG instead of Python's 5, so 50 clients at once are queued, not reset;
- no Nagle delay (TCP_NODELAY): an answer's body no longer waits ~40 ms for the client's ACK;
- one request a connection (HTTP/1.0), so a body chalice's handler leaves unread is never
  taken for the next request;
- every scheduled function running on its own schedule beside it (`scripts/scheduler.py`);
- the web app at /app/, the demo sign-in at /local/sign-in and the citizens' chat page at /chat/
  (`scripts/web_local.py`).

Usage: python scripts/local_server.py --stage local --host 127.0.0.1 --port 8000 [--no-schedules]
"""

from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import threading
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BACKLOG = 128


def build_server(stage: str, host: str, port: int) -> tuple[Any, Any]:
    """(the LocalDevServer, the app) for `stage`, bound to host:port."""
    from chalice.cli.factory import CLIFactory
    from chalice.local import (
        ChaliceRequestHandler,
        CustomLocalChalice,
        LocalChalice,
        LocalDevServer,
        ThreadedHTTPServer,
    )

    from scripts import web_local

    class QueuedServer(ThreadedHTTPServer):
        request_queue_size = BACKLOG

        def get_request(self) -> tuple[socket.socket, Any]:
            """Each answer leaves at once: http.server writes the head and the body apart, and
            with Nagle's algorithm the body waited for the client's delayed ACK (~40 ms)."""
            connection, address = super().get_request()
            connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            return connection, address

    class WithWebApp(ChaliceRequestHandler):
        """The web app's paths answered here; every other request goes to the app. One request
        a connection: chalice's handler reads a body by Content-Length only, so anything beyond
        it (a chunked body) was read as the next request on a kept-alive connection, and its
        error page reached the client as the next answer."""

        protocol_version = "HTTP/1.0"

        def _generic_handle(self) -> None:
            if self.path.startswith(("/app", "/local/", "/chat/")):
                headers, body = self._parse_payload()
                answer = web_local.handle(self.command, self.path, body)
                if answer is not None:
                    self._send_http_response(answer[0], answer[1], answer[2])
                    return
                self.headers_parsed = (headers, body)
            super()._generic_handle()

        def _parse_payload(self) -> tuple[Any, Any]:
            parsed = getattr(self, "headers_parsed", None)
            if parsed is not None:  # the body was read above: read once
                self.headers_parsed = None
                return parsed
            return super()._parse_payload()

        do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = do_PATCH = do_OPTIONS = _generic_handle

    os.environ["AWS_CHALICE_CLI_MODE"] = "true"  # as `chalice local` sets it
    factory = CLIFactory(project_dir=str(ROOT), environ=os.environ)
    config = factory.create_config_obj(chalice_stage_name=stage)
    os.environ.update(config.environment_variables)
    app = config.chalice_app
    # what chalice.local.create_local_server does, with our server class
    CustomLocalChalice.__bases__ = (LocalChalice, app.__class__)
    app.__class__ = CustomLocalChalice
    return LocalDevServer(app, config, host, port, WithWebApp, QueuedServer), app


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stage", default="local")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-schedules", action="store_true", help="serve routes only")
    options = parser.parse_args()
    logging.basicConfig(stream=sys.stdout, level=logging.INFO, format="%(message)s")
    os.chdir(ROOT)  # the stage's relative paths (.data/...) are the project's
    server, app = build_server(options.stage, options.host, options.port)
    stop = threading.Event()
    if not options.no_schedules:
        from scripts import scheduler

        scheduler.start(app, stop)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
