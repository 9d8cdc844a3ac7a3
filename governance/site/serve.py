"""Serving a built site on localhost with the standard library (no MkDocs live-reload server needed)."""

from __future__ import annotations

import functools
import http.server
from pathlib import Path

from governance.errors import SiteError


def make_server(site_dir: Path, *, port: int, host: str = "127.0.0.1") -> http.server.ThreadingHTTPServer:
    """An HTTP server for ``site_dir`` bound to ``host:port`` (port 0 picks a free one)."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise SiteError(f"Cannot listen on {host}:{port} ({exc.strerror}); choose another --port.") from exc


def serve(server: http.server.ThreadingHTTPServer) -> None:
    """Serve until stopped: Ctrl-C or SIGTERM end it (the command says which), the port freed either way."""
    try:
        server.serve_forever()
    finally:
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return
