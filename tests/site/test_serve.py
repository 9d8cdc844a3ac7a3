"""`governance site serve`'s server: serves the built site on localhost, and a busy port is one clear error."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from governance.errors import SiteError
from governance.site.serve import make_server

ROOT = Path(__file__).resolve().parents[2]


def test_serves_the_site_on_localhost(tmp_path: Path) -> None:
    (tmp_path / "index.html").write_text("<h1>hello</h1>", encoding="utf-8")
    server = make_server(tmp_path, port=0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        host, port = server.server_address[:2]
        assert host == "127.0.0.1"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/index.html", timeout=5) as response:
            assert response.read() == b"<h1>hello</h1>"
    finally:
        server.shutdown()
        server.server_close()


def test_a_busy_port_is_one_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(SiteError, match=f"Cannot listen on 127.0.0.1:{port}.*choose another --port"):
            make_server(tmp_path, port=port)


@pytest.mark.parametrize(("stop", "how"), [(signal.SIGINT, "Ctrl-C"), (signal.SIGTERM, "SIGTERM")])
def test_site_serve_stopped_says_so_and_exits_0(tmp_path: Path, stop: signal.Signals, how: str) -> None:
    """Ctrl-C or SIGTERM is how `site serve` ends: exit 0 and a line that says it stopped (it ended silently)."""
    with _serving(tmp_path) as (process, port):
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as response:
            assert response.status == 200
        process.send_signal(stop)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, (process.returncode, err)
    assert "Traceback" not in err, err
    last = out.strip().splitlines()[-1]
    assert last.startswith(f"Stopped serving ({how}") and "); the built site stays in" in last, out


@pytest.mark.parametrize(
    ("stops", "how"),
    [
        ((signal.SIGINT,) * 3, "Ctrl-C"),
        ((signal.SIGTERM,) * 3, "SIGTERM"),
        ((signal.SIGTERM, signal.SIGINT), ""),
    ],
)
def test_a_second_stop_while_serving_ends_does_not_undo_the_first(
    tmp_path: Path, stops: tuple[signal.Signals, ...], how: str
) -> None:
    """Ctrl-C pressed twice (an impatient user): the second came while the server closed and turned the normal end
    into "stopped before it finished ... run it again" with exit 130, or killed the process by SIGINT. (Of two
    signals that come together Python handles the lower number first: SIGINT before SIGTERM, either word.)"""
    with _serving(tmp_path) as (process, _port):
        for stop in stops:
            process.send_signal(stop)
        out, err = process.communicate(timeout=30)
    # A stop that reaches the process only once Python has finished (its handlers reset) ends it by that signal:
    # the operating system's doing, after the command's last word, so accepted here.
    assert process.returncode in (0, *(-stop for stop in stops[1:])), (process.returncode, err)
    assert "Traceback" not in err and "Interrupted" not in err, err
    last = out.strip().splitlines()[-1]
    assert last.startswith(f"Stopped serving ({how}") and "); the built site stays in" in last, out


@contextmanager
def _serving(tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """`governance site serve` of a new workspace on a free port, once it has said "Serving" (the process, the
    port); killed afterwards if a test left it running."""
    from governance.scaffold import init_workspace

    root = tmp_path / "ws"
    init_workspace(root, organisation="Acme")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "NO_MKDOCS_2_WARNING": "1"}
    args = ["site", "serve", "--workspace", str(root), "--port", str(port)]
    process = subprocess.Popen(
        [sys.executable, "-m", "governance", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )  # fmt: skip
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if line.startswith("Serving"):
                break
        yield process, port
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
