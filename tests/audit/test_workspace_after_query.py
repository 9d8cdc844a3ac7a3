"""The workspace's settings are read after the audit's first query is sent ahead (issue 14): a broken workspace is
still one sentence and exit 2, and the query sent meanwhile is not left running on the PostgreSQL server. A missing
workspace is refused before anything is sent: the command is refused whatever the engine says."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
import sqlalchemy as sa
from test_interrupt_postgres import ROOT, _end_sessions, _running, _server

BROKEN = "organisation: [unclosed\n"
DAMAGED = "organisation:\n  name: T\nregister:\n  url: sqlite:///damaged.db\n"  # not a SQLite file (below)
CASES = {  # governance.yaml, --no-register, what the sentence says, whether the query is sent, exit code
    "no workspace": (None, False, "governance init", False, 2),
    "broken governance.yaml": (BROKEN, False, "governance.yaml", True, 2),
    "broken governance.yaml, --no-register": (BROKEN, True, "governance.yaml", True, 2),
    "a damaged register": (DAMAGED, False, "damaged.db", True, 4),
}


@pytest.mark.postgres
@pytest.mark.parametrize("case", list(CASES))
def test_a_workspace_refused_after_the_query_was_sent_leaves_nothing_on_the_server(
    case: str, tmp_path: Path
) -> None:
    config, no_register, says, sent_ahead, code = CASES[case]
    if config is not None:
        (tmp_path / "governance.yaml").write_text(config, encoding="utf-8")
    (tmp_path / "damaged.db").write_bytes(b"not a SQLite database, " * 100)
    server = _server()
    engine = sa.create_engine(server, poolclass=sa.pool.NullPool)
    marker = f"gov_space_{uuid.uuid4().hex[:10]}"
    with (
        engine.begin() as connection
    ):  # a sequence moves on outside transactions: the query did reach the server
        connection.exec_driver_sql(f"CREATE SEQUENCE {marker}")
    query = (
        f"SELECT 'a' AS sex, 1 AS hired, 1 AS performed, '{marker}' AS m FROM generate_series(1, 1) AS g "
        f"WHERE CASE WHEN nextval('{marker}') > 0 THEN pg_sleep(300) IS NOT NULL END"
    )
    url = server.set(drivername="postgresql").render_as_string(hide_password=False)
    args = ["audit", "vendor@1", "--no-figures", "--workspace", str(tmp_path), "--query", query]
    args += ["--connection", url, "--predictions", "hired", "--target", "performed", "--sensitive", "sex"]
    args += ["--no-register"] if no_register else []
    try:
        run = subprocess.run(
            [sys.executable, "-m", "governance", *args],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=tmp_path,
            check=False,
            timeout=120,  # far less than the query's five minutes: the command did not wait for it
        )
        assert run.returncode == code, (run.returncode, run.stderr)
        assert "Traceback" not in run.stderr, run.stderr
        lines = [line for line in run.stderr.splitlines() if line.strip()]
        assert len(lines) == 1 and says in lines[0], run.stderr
        assert not _running(engine, marker), "the query sent ahead was left running on the server"
        assert not (tmp_path / "audits").exists()
        with engine.connect() as connection:
            sent = connection.exec_driver_sql(f"SELECT is_called FROM {marker}").scalar()
        assert sent == sent_ahead, "a query sent for a refused command" if sent else "nothing was sent ahead"
    finally:
        _end_sessions(engine, marker)
        with engine.begin() as connection:
            connection.exec_driver_sql(f"DROP SEQUENCE IF EXISTS {marker}")
        engine.dispose()


def test_a_missing_workspace_is_refused_before_the_server_is_contacted(tmp_path: Path) -> None:
    """A server that accepts and never answers (a hung host): the sentence came after the three seconds the command
    waits for the query to be sent, and the host was contacted for a command refused anyway."""
    import socket
    import threading

    with socket.create_server(("127.0.0.1", 0)) as mute:
        mute.settimeout(60)
        port = mute.getsockname()[1]
        contacted: list[socket.socket] = []

        def accept() -> None:
            with contextlib.suppress(OSError):
                contacted.append(mute.accept()[0])

        listening = threading.Thread(target=accept, daemon=True)
        listening.start()
        args = ["audit", "vendor@1", "--no-figures", "--workspace", str(tmp_path), "--table", "log"]
        args += [
            "--connection",
            f"postgresql://u@127.0.0.1:{port}/db",
            "--predictions",
            "hired",
            "--sensitive",
            "sex",
        ]
        run = subprocess.run(
            [sys.executable, "-m", "governance", *args],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            cwd=tmp_path,
            check=False,
            timeout=120,
        )
    listening.join(5)
    for connection in contacted:
        connection.close()
    assert run.returncode == 2, (run.returncode, run.stderr)
    assert "no workspace in" in run.stderr and "Traceback" not in run.stderr, run.stderr
    assert not contacted, "the server was contacted for a command refused for its missing workspace"
