"""A PostgreSQL register whose server restarts, stops or drops the connection: the next read or write reconnects,
or fails with one sentence naming the server (never a password), and nothing is half-written.

These tests stop and restart a server, so they start their own (scripts/postgres.sh with a private state file),
not the shared one of ``GOVERNANCE_TEST_POSTGRES_URL``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import sqlalchemy as sa

from governance.errors import RegisterError
from governance.register import Register
from governance.testhooks import PAUSE_AT, PAUSE_FILE

pytestmark = pytest.mark.postgres
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Server:
    """A private PostgreSQL server: its URL, data folder, port and binaries, to stop and start it."""

    url: str
    folder: Path
    port: int
    bin: Path

    def ctl(self, *args: str) -> None:
        command = [
            str(self.bin / "pg_ctl"),
            "-D",
            str(self.folder / "data"),
            "-l",
            str(self.folder / "server.log"),
        ]
        if os.geteuid() == 0:
            command = ["runuser", "-u", "postgres", "--", *command]
        opts = f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 -c fsync=off"
        subprocess.run(
            [*command, "-w", "-o", opts, *args],
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

    def restart(self) -> None:
        self.ctl("-m", "fast", "restart")

    def stop(self) -> None:
        self.ctl("-m", "fast", "stop")

    def start(self) -> None:
        self.ctl("start")


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    state = tmp_path_factory.mktemp("pg") / "state"
    env = {**os.environ, "GOVERNANCE_PG_STATE_FILE": str(state)}
    env.pop("GOVERNANCE_TEST_POSTGRES_DIR", None)
    started = subprocess.run(
        ["bash", str(ROOT / "scripts" / "postgres.sh"), "start"],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    url = started.stdout.split("GOVERNANCE_TEST_POSTGRES_URL=")[1].split()[0]
    folder, port, binaries = state.read_text(encoding="utf-8").split()[:3]
    try:
        yield Server(url, Path(folder), int(port), Path(binaries))
    finally:
        subprocess.run(["bash", str(ROOT / "scripts" / "postgres.sh"), "stop"], env=env, check=False)


@pytest.fixture
def running(server: Server) -> Server:
    """The server, started again if a test before left it stopped."""
    probe = sa.create_engine(server.url, poolclass=sa.pool.NullPool)
    try:
        with probe.connect():
            pass
    except sa.exc.OperationalError:
        server.start()
    finally:
        probe.dispose()
    return server


@pytest.fixture
def register(running: Server, tmp_path: Path) -> Iterator[Register]:
    """A register in a schema of its own on the private server, with one model."""
    schema = f"lost_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(running.url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
    admin.dispose()
    url = sa.make_url(running.url).update_query_dict({"options": f"-csearch_path={schema}"})
    opened = Register(url.render_as_string(hide_password=False), workspace_root=tmp_path)
    opened.add_model("credit", owner="o@x", purpose="p", actor="a@x")
    yield opened
    opened.close()


def _name(register: Register) -> str:
    return register.list_models()[0].name


def test_a_read_right_after_a_restart_reconnects(running: Server, register: Register) -> None:
    name = _name(register)
    running.restart()  # the pooled connection is gone, and it was used less than ten seconds ago
    assert register.show(name).model.name == name
    running.restart()
    assert [event.kind for event in register.history(name)]
    running.restart()
    register.status()


def test_a_write_right_after_a_restart_reconnects(running: Server, register: Register) -> None:
    running.restart()
    register.add_model("after_restart", owner="o@x", purpose="p", actor="a@x")
    assert register.verify().ok


def test_a_stopped_server_is_one_sentence_for_reads_and_writes(running: Server, register: Register) -> None:
    name = _name(register)
    running.stop()
    try:
        for attempt in (
            lambda: register.show(name),
            lambda: register.add_model("x", owner="o", purpose="p", actor="a"),
        ):
            with pytest.raises(RegisterError) as raised:
                attempt()
            message = str(raised.value)
            assert "PostgreSQL" in message and f"127.0.0.1:{running.port}" in message, message
            assert "\n" not in message and "[SQL" not in message, message
            assert "run the command again" in message, message
    finally:
        running.start()
    assert register.verify().ok
    assert [model.name for model in register.list_models()] == [name]  # the refused write left nothing


def test_a_terminated_session_reconnects(running: Server, register: Register) -> None:
    assert register.show(_name(register))  # a connection in the pool, then terminated by an administrator
    admin = sa.create_engine(running.url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.exec_driver_sql(
            "SELECT pg_terminate_backend(pid, 30000) FROM pg_stat_activity "
            "WHERE pid <> pg_backend_pid() AND datname = current_database()"
        )  # with a timeout: returns once those sessions have ended
    admin.dispose()
    assert register.show(_name(register))
    register.add_model("after_terminate", owner="o@x", purpose="p", actor="a@x")
    assert register.verify().ok


def test_the_command_line_says_one_sentence_when_the_server_is_down(
    running: Server, register: Register, tmp_path: Path
) -> None:
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: T\n", encoding="utf-8")
    secret = sa.make_url(running.url).set(password="s3cret-pw").render_as_string(hide_password=False)
    running.stop()
    try:
        for args in (["register", "show", "credit"], ["status"], ["register", "history"]):
            done = subprocess.run(
                [sys.executable, "-m", "governance", *args[:2], "--register-url", secret, *args[2:]],
                capture_output=True,
                text=True,
                cwd=tmp_path,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
            assert done.returncode == 2, (args, done.stderr)
            lines = done.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("Error: "), done.stderr
            assert "s3cret-pw" not in done.stderr and "Traceback" not in done.stderr
    finally:
        running.start()


def test_a_restart_during_a_write_is_one_sentence_and_leaves_nothing(running: Server, tmp_path: Path) -> None:
    """The server restarts while a ``register add`` holds its transaction open (rows and event written, not yet
    committed): the command says so in one sentence, and the register holds no half of the change."""
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: T\n", encoding="utf-8")
    paused = tmp_path / "paused"
    env = {**os.environ, "PYTHONPATH": str(ROOT), PAUSE_AT: "register-commit", PAUSE_FILE: str(paused)}
    env["GOVERNANCE_REGISTER_URL"] = running.url
    args = ["register", "add", "halfway", "--owner", "o@x", "--purpose", "p", "--actor", "a@x"]
    process = subprocess.Popen(
        [sys.executable, "-m", "governance", *args], cwd=tmp_path, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 60
        while not paused.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert paused.exists(), process.stderr.read() if process.stderr else ""
        running.restart()
        paused.unlink()
        _out, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 2, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: ") and "Traceback" not in err, err
    with Register(running.url, workspace_root=tmp_path) as register:
        assert register.verify().ok
        assert "halfway" not in [model.name for model in register.list_models()]


def test_a_wrong_password_or_database_is_one_sentence_without_the_password(
    running: Server, tmp_path: Path
) -> None:
    """The server refuses the password, or has no such database: one sentence naming the register, exit 2, and the
    password the user typed appears nowhere."""
    admin = sa.create_engine(running.url, poolclass=sa.pool.NullPool, isolation_level="AUTOCOMMIT")
    role = f"pw_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.exec_driver_sql(f"CREATE ROLE \"{role}\" LOGIN PASSWORD 'the-right-one'")
    admin.dispose()
    hba = running.folder / "data" / "pg_hba.conf"
    hba.write_text(
        f"host all {role} 127.0.0.1/32 scram-sha-256\n" + hba.read_text(encoding="utf-8"), encoding="utf-8"
    )
    running.ctl("reload")
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: T\n", encoding="utf-8")
    base = sa.make_url(running.url)
    wrong = base.set(username=role, password="s3cret-wrong").render_as_string(hide_password=False)
    missing = base.set(database="no_such_db", password="s3cret-wrong").render_as_string(hide_password=False)
    for url, words in ((wrong, "password authentication failed"), (missing, "does not exist")):
        done = subprocess.run(
            [sys.executable, "-m", "governance", "status", "--register-url", url],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("Error: ") and words in lines[0], done.stderr
        assert "s3cret-wrong" not in done.stderr + done.stdout


def test_a_register_on_a_unix_socket_is_named_by_its_socket(running: Server, tmp_path: Path) -> None:
    """``?host=/path`` (the socket's folder): the sentence names that folder, not a "localhost:5432" that the
    register never used."""
    base = sa.make_url(running.url)
    url = f"postgresql+psycopg://{base.username}@/{base.database}?host={running.folder}&port={running.port}"
    with Register(url, workspace_root=tmp_path) as register:
        register.list_models()
        running.stop()
        try:
            with pytest.raises(RegisterError) as raised:
                register.list_models()
        finally:
            running.start()
    message = str(raised.value)
    assert str(running.folder) in message and str(running.port) in message, message
    assert "localhost" not in message, message


def test_a_password_given_as_a_query_parameter_is_never_shown(running: Server, tmp_path: Path) -> None:
    """``?password=...`` is as much a password as ``user:password@``: no sentence repeats it, whether the server
    is down when the register is opened or goes away afterwards."""
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: T\n", encoding="utf-8")
    secret = sa.make_url(running.url).update_query_dict({"password": "s3cret-qp"})
    with Register(secret.render_as_string(hide_password=False), workspace_root=tmp_path) as register:
        register.list_models()
        running.stop()
        try:
            with pytest.raises(RegisterError) as raised:
                register.list_models()
            assert "s3cret-qp" not in str(raised.value), raised.value
            done = subprocess.run(
                [sys.executable, "-m", "governance", "register", "list", "--register-url", str(secret)],
                capture_output=True,
                text=True,
                cwd=tmp_path,
                env={**os.environ, "PYTHONPATH": str(ROOT)},
            )
        finally:
            running.start()
    assert done.returncode == 2, done.stderr
    assert "s3cret-qp" not in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_opening_a_register_on_a_server_not_yet_accepting_connections_says_so(
    running: Server, tmp_path: Path
) -> None:
    """A server still starting up (here: a standby that will not take connections, which answers as one starting
    up does, SQLSTATE 57P03): the sentence of a server that is restarting, not "check the URL"."""
    running.stop()
    standby = running.folder / "data" / "standby.signal"
    standby.touch()
    try:
        running.ctl("-o", "-c hot_standby=off", "start")
        with pytest.raises(RegisterError) as raised:
            Register(running.url, workspace_root=tmp_path)
        message = str(raised.value)
        assert "not accepting connections" in message or "starting up" in message, message
        assert "it may be restarting" in message and "run the command again" in message, message
        assert "check the URL" not in message and "\n" not in message, message
    finally:
        running.stop()
        standby.unlink()
        running.start()
