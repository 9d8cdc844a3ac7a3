"""A table audit against PostgreSQL that is stopped (Ctrl-C, SIGTERM, kill -9) leaves no query running on the server.

The audit sends its COUNT/GROUP BY from a background thread (governance/intake/early.py); a process that ends without
cancelling it leaves the server working on it until the query finishes and tries to send its rows.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import sqlalchemy as sa

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]
POSTGRES_ENV = "GOVERNANCE_TEST_POSTGRES_URL"


def _server() -> sa.URL:
    raw = os.environ.get(POSTGRES_ENV)
    assert raw, f'{POSTGRES_ENV} is not set: start a server with eval "$(bash scripts/postgres.sh start)"'
    return sa.make_url(raw)


def _running(engine: sa.Engine, marker: str) -> list[tuple[int, str]]:
    """The server's sessions still running a query that holds ``marker``."""
    with engine.connect() as connection:
        found = connection.execute(
            sa.text(
                "SELECT pid, state FROM pg_stat_activity WHERE query LIKE :like AND pid <> pg_backend_pid() "
                "AND state <> 'idle'"
            ),
            {"like": f"%{marker}%"},
        )
        return [(int(pid), str(state)) for pid, state in found]


def _wait_for(predicate: object, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return True
        time.sleep(0.2)
    return False


def _slow_audit(server: sa.URL, marker: str, tmp_path: Path) -> subprocess.Popen[str]:
    """``governance audit`` of a query that takes five minutes to give its one row, started in a process."""
    # one row that takes five minutes to produce: the audit's GROUP BY is still running when the signal comes
    query = f"SELECT 'a' AS sex, 1 AS hired, 1 AS performed, '{marker}' AS m FROM generate_series(1, 1) AS g WHERE pg_sleep(300) IS NOT NULL"
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: T\n", encoding="utf-8")
    url = server.set(drivername="postgresql").render_as_string(hide_password=False)
    args = [
        "audit",
        "vendor@1",
        "--no-register",
        "--no-figures",
        "--workspace",
        str(tmp_path),
        "--query",
        query,
    ]
    args += ["--connection", url, "--predictions", "hired", "--target", "performed", "--sensitive", "sex"]
    return subprocess.Popen(
        [sys.executable, "-m", "governance", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )


def _end_sessions(engine: sa.Engine, marker: str) -> None:
    with engine.connect() as connection:
        connection.execute(
            sa.text(
                "SELECT pg_terminate_backend(pid, 30000) FROM pg_stat_activity WHERE query LIKE :like "
                "AND pid <> pg_backend_pid()"
            ),
            {"like": f"%{marker}%"},
        )


@contextmanager
def _audit_counting(tmp_path: Path, prefix: str) -> Iterator[tuple[sa.Engine, str, subprocess.Popen[str]]]:
    """A slow audit whose query is running on the server (an engine to look at it, its marker, the process);
    afterwards the process and any session it left are ended."""
    server = _server()
    engine = sa.create_engine(server, poolclass=sa.pool.NullPool)
    marker = f"{prefix}_{uuid.uuid4().hex[:10]}"
    process = _slow_audit(server, marker, tmp_path)
    try:
        assert _wait_for(lambda: _running(engine, marker), 60), "the audit's query never reached the server"
        yield engine, marker, process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        _end_sessions(engine, marker)
        engine.dispose()


@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM", "SIGKILL"])
def test_a_stopped_audit_leaves_no_query_on_the_server(how: str, tmp_path: Path) -> None:
    with _audit_counting(tmp_path, "gov_interrupt") as (engine, marker, process):
        process.send_signal(getattr(signal, how))
        _out, err = process.communicate(timeout=60)
        if how != "SIGKILL":
            # SIGINT while the audit still imports: once ended by SIGINT itself (-2) after its sentence, a ^C raised
            # inside a dataclass's generated code (tests/test_interrupt.py)
            assert process.returncode == {"SIGINT": 130, "SIGTERM": 143}[how], (process.returncode, err)
            assert "Traceback" not in err, err
            lines = [line for line in err.splitlines() if line.strip()]
            assert len(lines) == 1 and lines[0].startswith(("Interrupted", "Stopped")), err
            assert not _running(engine, marker), "the query was left running on the server"
        else:  # the server notices the client is gone (client_connection_check_interval) and stops the query
            assert _wait_for(lambda: not _running(engine, marker), 30), (
                "the query was left running on the server"
            )
        assert not (tmp_path / "audits").exists()


def test_a_session_ended_during_the_audit_is_one_sentence(tmp_path: Path) -> None:
    """The server ends the audit's session mid-query (a restart, ``pg_terminate_backend``): one sentence that says
    so and to run the command again, not "check the SQL"."""
    with _audit_counting(tmp_path, "gov_ended") as (engine, marker, process):
        _end_sessions(engine, marker)
        _out, err = process.communicate(timeout=60)
    assert process.returncode == 2, (process.returncode, err)
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and "Traceback" not in err, err
    assert "closed the connection" in lines[0] and "run the command again" in lines[0], err
    assert not (tmp_path / "audits").exists()
