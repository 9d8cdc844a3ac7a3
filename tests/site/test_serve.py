"""`governance site serve`'s server: serves the built site on localhost, and a busy port is one clear error."""

from __future__ import annotations

import socket
import threading
import urllib.request
from pathlib import Path

import pytest

from governance.errors import SiteError
from governance.site.serve import make_server


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
