"""Serving a built site on localhost with the standard library (no MkDocs live-reload server needed)."""

from __future__ import annotations

import contextlib
import functools
import http.server
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from governance.errors import SiteError


def make_server(site_dir: Path, *, port: int, host: str = "127.0.0.1") -> http.server.ThreadingHTTPServer:
    """An HTTP server for ``site_dir`` bound to ``host:port`` (port 0 picks a free one)."""
    handler = functools.partial(_QuietHandler, directory=str(site_dir))
    try:
        return http.server.ThreadingHTTPServer((host, port), handler)
    except OSError as exc:
        raise SiteError(f"Cannot listen on {host}:{port} ({exc.strerror}); choose another --port.") from exc


def serve(server: http.server.ThreadingHTTPServer, tell: Callable[[str | None], None]) -> None:
    """Serve until Ctrl-C or SIGTERM: ``tell(None)`` once the stops are caught (the command says "Serving"), then
    the port freed and ``tell`` given which stop came ("Ctrl-C", "SIGTERM").

    The first stop ends serving and later ones are ignored until ``tell`` has returned: a second Ctrl-C while the
    server closed (pressed twice) turned the normal end into "stopped before it finished" and exit 130."""
    with _first_stop() as stops:
        try:
            tell(None)
            server.serve_forever()
        except _Stop:
            pass
        finally:
            server.server_close()
        tell(stops[0] if stops else "Ctrl-C")


class _Stop(Exception):
    """The first Ctrl-C or SIGTERM while serving (not a KeyboardInterrupt: nothing else is to catch it)."""


_NAMES = {signal.SIGINT: "Ctrl-C", signal.SIGTERM: "SIGTERM"}


@contextlib.contextmanager
def _first_stop() -> Iterator[list[str]]:
    """Ctrl-C and SIGTERM noted (the first raises :class:`_Stop`), the previous handlers put back after; in the
    main thread only (elsewhere a signal cannot be handled), and a SIGTERM ignored by the caller stays ignored."""
    if threading.current_thread() is not threading.main_thread():
        yield []
        return
    stops: list[str] = []

    def stop(signum: int, _frame: object) -> None:
        stops.append(_NAMES[signal.Signals(signum)])
        if len(stops) == 1:
            raise _Stop

    kept = [s for s in _NAMES if signal.getsignal(s) != signal.SIG_IGN]
    previous = {s: signal.signal(s, stop) for s in kept}
    try:
        yield stops
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler if handler is not None else signal.SIG_DFL)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return
