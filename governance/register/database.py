"""Opening the register's database: check it is ours, migrate it, and serialise the writers.

A file or database that is not a register is refused *before* anything is written to it, so that pointing
the tool at the wrong file cannot damage it. Writers take one lock per transaction (SQLite ``BEGIN
IMMEDIATE``; a PostgreSQL transaction-level advisory lock), which is what keeps the event chain linear when
several processes record audits and approvals at once.
"""

from __future__ import annotations

import os
import re
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from typing import Any, ClassVar

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine

from governance.errors import CorruptRegisterError, NotFoundError, RegisterError
from governance.register.actions import advice
from governance.register.schema import PREFIX, VERSION_TABLE
from governance.testhooks import pause_at

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
SQLITE_HEADER = b"SQLite format 3\x00"
BUSY_TIMEOUT_SECONDS = 60
# pg_advisory_xact_lock key: "gov-reg" as an integer; only this program takes it.
ADVISORY_LOCK_KEY = 0x676F762D726567
_WRITE = "governance_write"


def parse_url(url: str) -> sa.URL:
    """A SQLAlchemy URL; ``postgresql://`` and ``postgres://`` get the psycopg 3 driver installed here."""
    try:
        parsed = sa.make_url(url)
    except Exception as exc:
        raise RegisterError(
            f"The register URL {url!r} cannot be read; use sqlite:///path/register.db or "
            "postgresql+psycopg://user@host/database."
        ) from exc
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise RegisterError(
            f"The register supports SQLite and PostgreSQL, not {backend}; use sqlite:///... or postgresql+psycopg://..."
        )
    if backend == "sqlite" and (not parsed.database or parsed.database == ":memory:"):
        raise RegisterError(
            "The register needs a SQLite file, not an in-memory database; use sqlite:///path/register.db."
        )
    return parsed


def describe(url: sa.URL) -> str:
    """Where the register is, for messages: the file, or the URL without its password."""
    if url.get_backend_name() == "sqlite":
        return str(url.database)
    return _SECRET_PARAMETER.sub(r"\1***", url.render_as_string(hide_password=True))  # ?password=, too


_SECRET_PARAMETER = re.compile(  # as governance.intake.engine's redact_url
    r"([?&][^=&#]*(?:pass|secret|token|key|credential|auth)[^=&#]*=)[^&#]*", re.IGNORECASE
)


def open_engine(url: str, *, migrate_to: str = "head", create: bool = True) -> Engine:
    """An engine on a checked register, migrated to ``migrate_to`` (the newest schema unless a test asks).

    With ``create=False`` a SQLite register that does not exist yet raises ``NotFoundError`` instead of being
    created, so that read-only commands leave no file behind.
    """
    parsed = parse_url(url)
    where = describe(parsed)
    if parsed.get_backend_name() == "sqlite":
        path = Path(str(parsed.database))
        if not create and not path.is_file():
            raise NotFoundError(
                f"There is no register at {path} yet; add a model with {{add_model}}.",
                **advice("add_model", model="NAME"),
            )
        tables, revision = _inspect_sqlite_file(path)
        revision = _classify(tables, revision, where)  # before any connection that could write (WAL, migrate)
        path.parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(parsed, connect_args={"timeout": BUSY_TIMEOUT_SECONDS})
        _one_process_per_connection(engine)  # first: a connection of another process is not even looked at
        _configure_sqlite(engine)
    else:  # psycopg's own prepared statements off: its ROLLBACK would deallocate ours (see wire.py)
        engine = sa.create_engine(  # UTF-8 whatever PGCLIENTENCODING or the database's default says
            parsed, connect_args={"prepare_threshold": None, "client_encoding": "utf8"}
        )
        _ping_when_idle(engine)
        _one_process_per_connection(engine)
    try:
        if engine.dialect.name != "sqlite":
            revision = _classify(*_inspect_server(engine, where), where)
        if revision != migrate_to and not (migrate_to == "head" and revision == head_revision()):
            _upgrade(engine, revision, migrate_to, where)
    except (
        sa.exc.DBAPIError,
        WriteFailed,
    ) as exc:  # e.g. a search_path naming a schema that does not exist, no right to create
        engine.dispose()
        raise _set_up_failed(where, (exc.__cause__ if isinstance(exc, WriteFailed) else None) or exc) from exc
    except BaseException:
        engine.dispose()
        raise
    return engine


def _upgrade(engine: Engine, revision: str | None, migrate_to: str, where: str) -> None:
    """Create or upgrade the tables; on PostgreSQL only the tables' owner may upgrade them, which a person's
    role is not (see :mod:`.roles`)."""
    try:
        migrate(engine, migrate_to)
    except PermissionDeniedError as exc:
        if revision is None:  # creating a register: the account may not create tables there
            raise _cannot_set_up(where, exc.__cause__ or exc) from exc
        raise PermissionDeniedError(
            f"Database role {_login_role(engine)} may not upgrade the register at {where} to this version of "
            "governance (only the owner of its tables may); ask the register's administrator to open it once as "
            "that owner, e.g. with {verify}.",
            **advice("verify"),
        ) from exc


def _set_up_failed(where: str, exc: BaseException) -> RegisterError:
    """Why creating or upgrading the tables failed: another program's lock held past the busy timeout is not a
    wrong URL nor missing rights (an open psql session that read the events holds back an upgrade)."""
    if isinstance(exc, sa.exc.DBAPIError) and _lock_waited(exc):
        return WriteFailed(
            f"Another program kept the register at {where} locked for over {BUSY_TIMEOUT_SECONDS} seconds, so it "
            "could not be set up for this version of governance and nothing was changed; run the command again "
            "when that program has finished."
        )
    return _cannot_set_up(where, exc)


def _cannot_set_up(where: str, exc: BaseException) -> RegisterError:
    return RegisterError(
        f"Cannot set up the register at {where} ({_first_line(exc)}); check the URL (its database and schema "
        "must exist) and that this account may create tables there."
    )


def _inspect_sqlite_file(path: Path) -> tuple[set[str], str | None]:
    """Table names and schema revision of a SQLite file, read without writing; refuses non-databases."""
    if path.is_dir():
        raise RegisterError(
            f"{path} is a folder; give the register a file path such as {path / 'register.db'}."
        )
    if not path.exists() or path.stat().st_size == 0:
        return set(), None
    with path.open("rb") as handle:
        header = handle.read(len(SQLITE_HEADER))
    if header != SQLITE_HEADER:
        raise CorruptRegisterError(
            f"{path} is not a SQLite database (damaged, or another program's file) and was left untouched; "
            "move it away or point {register_url} at another file.",
            fields={"register_url": "the register URL"},
        )
    try:
        connection = sqlite3.connect(
            f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=BUSY_TIMEOUT_SECONDS
        )
        try:
            check = connection.execute("PRAGMA quick_check").fetchall()
            tables = {
                row[0] for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
            revision = None
            if VERSION_TABLE in tables:
                revision = connection.execute(f"SELECT version_num FROM {VERSION_TABLE}").fetchone()
        finally:
            connection.close()
    except sqlite3.DatabaseError as exc:
        if not os.access(path.parent, os.W_OK) or not os.access(path, os.W_OK):
            raise RegisterError(
                f"The register {path} cannot be opened because it or its folder cannot be written (a read-only disk, "
                "folder or file), and SQLite writes beside the register even to read it; nothing is damaged (do not "
                "restore a backup): make it writable, or work on a writable copy of the workspace."
            ) from exc
        if _disk_is_full(path):  # SQLite says "disk I/O error" when it cannot even map its shared-memory file
            raise DiskFullError(
                f"The disk holding {path} is full, so the register could not be opened; {_FREE_SPACE}"
            ) from exc
        raise CorruptRegisterError(
            f"{path} is a damaged SQLite database ({exc}) and was left untouched; restore it from a backup."
        ) from exc
    if check != [("ok",)]:
        raise CorruptRegisterError(
            f"{path} failed SQLite's integrity check ({check[0][0]}) and was left untouched; restore it from a backup."
        )
    return tables, (str(revision[0]) if revision else None)


def _use_wal(cursor: Any) -> None:
    """Switch the file to WAL once; it stays so. Switching needs an exclusive lock, and SQLite may answer
    "locked" at once instead of waiting out the busy timeout when several processes open a new register
    together, so the switch is retried until that timeout."""
    import sqlite3
    import time

    deadline = time.monotonic() + BUSY_TIMEOUT_SECONDS
    while True:
        try:
            if str(cursor.execute("PRAGMA journal_mode").fetchone()[0]).lower() != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _configure_sqlite(engine: Engine) -> None:
    """WAL journal, busy timeout, foreign keys, and our own BEGIN so that writers can ask for IMMEDIATE."""

    path = os.path.abspath(str(engine.url.database))  # as the connection opened it (a later chdir aside)
    by_name = not engine.url.query.get("uri")  # a file: URI is not a path to look at

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        dbapi_connection.isolation_level = None  # the driver must not issue BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_SECONDS * 1000}")
        cursor.execute("PRAGMA foreign_keys = ON")
        _use_wal(cursor)
        cursor.close()
        if by_name:
            record.info[_OPENED_FILE] = path, _file_identity(path)

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if not same_file(record.info):
            let_go_of_replaced(dbapi_connection)
            raise sa.exc.DisconnectionError("The register file was replaced; a fresh connection is opened.")

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        immediate = connection.get_execution_options().get(_WRITE, False)
        driver_execute(connection, "BEGIN IMMEDIATE" if immediate else "BEGIN").close()


_OPENED_FILE = "governance_file"  # the pool record's note of the SQLite file it opened: path, device, inode


def _file_identity(path: str) -> tuple[int, int] | None:
    try:
        found = os.stat(path)
    except FileNotFoundError:
        return None
    return found.st_dev, found.st_ino


def same_file(info: dict[Any, Any]) -> bool:
    """Whether a SQLite connection still has the file at the register's path open: a file replaced under it (a
    backup restored, ``mv`` over it) would get no write (they would go to the old file, and be lost), and the two
    files would share one write-ahead log. A file deleted under it is refused: a new connection would make an
    empty register in its place."""
    if _OPENED_FILE not in info:
        return True
    path, opened = info[_OPENED_FILE]
    found = _file_identity(path)
    if found is None:
        raise RegisterError(
            f"The register file {path} was deleted or moved while this program had it open, so nothing was "
            "read or recorded; put it back (or open the register where it is now) and run the command again."
        )
    return bool(found == opened)


def let_go_of_replaced(dbapi_connection: Any) -> None:
    """Empty the write-ahead log of a connection whose file was replaced (into that old file) before it is
    closed: the new file at the same path opens the same log by name, and would take the old file's pages in
    it for its own."""
    import contextlib

    with contextlib.suppress(sqlite3.Error):  # a log another process still writes: nothing more to do here
        dbapi_connection.execute("PRAGMA wal_checkpoint(TRUNCATE)").close()


def driver_execute(
    connection: Connection, statement: str, parameters: Any = None, *, many: bool = False
) -> Any:
    """Run one statement on the driver's own cursor of the connection SQLAlchemy holds (in its transaction), and
    give the cursor: the write path's few fixed statements skip SQLAlchemy's per-statement work (execution
    context, result objects), a third of a write's processor time. Driver errors are raised as SQLAlchemy's,
    so that a full disk or a missing grant still reads as one plain sentence."""
    dbapi = connection.connection.driver_connection
    assert dbapi is not None
    cursor = dbapi.cursor()
    try:
        if many:
            cursor.executemany(statement, parameters)
        elif parameters is None:
            cursor.execute(statement)
        else:
            cursor.execute(statement, parameters)
    except connection.dialect.loaded_dbapi.Error as exc:
        cursor.close()
        raise _as_sqlalchemy_error(connection, exc, cursor, statement, parameters)[1] from exc
    return cursor


def execute_and_commit(
    connection: Connection, statement: str, parameters: Any, *, prepare: bool = True
) -> int:
    """PostgreSQL: the last statement of a :func:`locked_write` sent with COMMIT, in one exchange with the server
    (a pipeline: COMMIT runs only if the statement succeeded, else the transaction stays failed and is rolled
    back); the rows the statement changed. Nothing may be written after it: the transaction is over.
    ``prepare``: the statement is prepared on the connection (see :meth:`.wire.Pipeline.run`)."""
    from governance.register.wire import STATEMENTS_LOST, changed, pipeline

    dbapi = connection.connection.driver_connection
    assert dbapi is not None
    pause_at("register-commit")  # the crash tests kill -9 here: locked, the rows and events not sent yet
    try:
        steps = [(statement, parameters), ("COMMIT", None)]
        return changed(pipeline(dbapi).run(steps, prepare=prepare)[0])
    except STATEMENTS_LOST as exc:
        raise StatementsLost(
            "The database server lost the statements this register prepared on its connection (a DEALLOCATE, or "
            "a connection pooler), so the change was not recorded; run the command again."
        ) from exc
    except connection.dialect.loaded_dbapi.Error as exc:
        raise _as_sqlalchemy_error(connection, exc, None, statement, parameters)[1] from exc


class StatementsLost(RegisterError):
    """The last exchange of a write found a statement prepared on its connection gone (or there already): the
    transaction failed whole, nothing was written, and the write can run again (the statements are read again
    from the server first)."""


def _as_sqlalchemy_error(
    connection: Connection, exc: Any, cursor: Any, statement: str, parameters: Any
) -> tuple[bool, BaseException]:
    """A driver error as SQLAlchemy wraps it (for the permission and full-disk sentences), and whether the
    connection is gone (a server restarted: it is invalidated, so that the pool opens fresh connections)."""
    dbapi = connection.connection.driver_connection
    gone = connection.dialect.is_disconnect(exc, dbapi, cursor)
    if gone:
        connection.invalidate(exc)
    error = connection.dialect.loaded_dbapi.Error
    return gone, sa.exc.DBAPIError.instance(statement, parameters, exc, error, connection_invalidated=gone)


def first_row(cursor: Any) -> dict[str, Any] | None:
    """The cursor's first row by column name (``None``: no row), and the cursor closed."""
    try:
        row = cursor.fetchone()
        return None if row is None else dict(zip([c[0] for c in cursor.description], row, strict=True))
    finally:
        cursor.close()


def _inspect_server(engine: Engine, where: str) -> tuple[set[str], str | None]:
    """Table names and schema revision of a PostgreSQL database (read only)."""
    try:
        with engine.connect() as connection:
            tables = set(sa.inspect(connection).get_table_names())
            revision = None
            if VERSION_TABLE in tables:
                revision = connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
            connection.rollback()
    except sa.exc.DBAPIError as exc:
        denied = permission_denied(exc, engine)
        if denied is not None:
            raise denied from exc
        if _not_accepting(exc):
            raise server_unavailable(exc, engine, "so the register could not be opened") from exc
        raise RegisterError(
            f"Cannot open the register at {where} ({_first_line(exc)}); check the URL and the server."
        ) from exc
    return tables, (str(revision) if revision is not None else None)


def _classify(tables: set[str], revision: str | None, where: str) -> str | None:
    """The schema revision of a register, ``None`` for an empty database; refuses a foreign or newer one."""
    tables = {name for name in tables if not name.startswith("sqlite_")}
    if not tables:
        return None
    foreign = sorted(name for name in tables if not name.startswith(PREFIX))
    if foreign or VERSION_TABLE not in tables:
        shown = ", ".join(foreign[:5]) or ", ".join(sorted(tables)[:5])
        raise CorruptRegisterError(
            f"{where} holds tables that are not a register's ({shown}) and was left untouched; "
            "give the register its own file or database."
        )
    if revision not in known_revisions():
        raise RegisterError(
            f"The register at {where} has schema {revision!r}, which this version of governance does not know; "
            "upgrade governance (pip install -U governance) to use it."
        )
    return revision


def _first_line(exc: BaseException) -> str:
    text = str(getattr(exc, "orig", None) or exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _alembic_config() -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    return config


_REVISION_LINE = re.compile(
    r"^(down_revision|revision)\s*(?::[^=]*)?=\s*(?:\"([^\"]*)\"|'([^']*)'|None)\s*$", re.M
)


@cache
def _revision_graph() -> dict[str, str | None]:
    """Each migration's revision and the one it revises, read from the files' ``revision = ...`` lines.

    Reading two lines of each file costs far less than importing Alembic (a third of a second), which only
    the rare open that migrates needs.
    """
    graph: dict[str, str | None] = {}
    for path in sorted((MIGRATIONS_DIR / "versions").glob("*.py")):
        found: dict[str, str | None] = {}
        for match in _REVISION_LINE.finditer(path.read_text(encoding="utf-8")):
            found[match.group(1)] = match.group(2) or match.group(3) or None
        if found.get("revision"):
            graph[str(found["revision"])] = found.get("down_revision")
    return graph


@cache
def known_revisions() -> frozenset[str]:
    """Every schema revision this version of the package can migrate from."""
    return frozenset(_revision_graph())


@cache
def head_revision() -> str:
    """The newest schema revision: the one no other revision revises (Alembic decides if there are several)."""
    graph = _revision_graph()
    heads = set(graph) - {down for down in graph.values() if down is not None}
    if len(heads) == 1:
        return heads.pop()
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def migrate(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to ``revision`` in one locked transaction (concurrent openers wait)."""
    from alembic import command

    config = _alembic_config()
    with write_transaction(engine) as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)


_FREE_SPACE = (
    "nothing was written and nothing is damaged (do not restore a backup): free some space and run the command "
    "again."
)


class DiskFullError(RegisterError):
    """The disk (or the database server's disk) is full: the change was rolled back whole."""


def _disk_is_full(path: Path) -> bool:
    import shutil

    try:
        return shutil.disk_usage(path.parent).free < 64 << 10  # less than SQLite's shared-memory file
    except OSError:
        return False


def _is_disk_full(exc: sa.exc.DBAPIError) -> bool:
    text = str(exc.orig).lower()
    return "disk is full" in text or "no space left" in text or getattr(exc.orig, "sqlstate", None) == "53100"


IDLE_PING_SECONDS = 10.0
_CHECKED_IN = "governance_checked_in"


def _ping_when_idle(engine: Engine) -> None:
    """Check a pooled PostgreSQL connection is still alive before use, but only when it sat idle for a while:
    pinging on every checkout (``pool_pre_ping``) cost one more wait for the server on every write. A dead
    connection is replaced by a fresh one, as the pre-ping did."""
    import time

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info[_CHECKED_IN] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        idle_since = record.info.get(_CHECKED_IN)
        if idle_since is None:
            return
        if time.monotonic() - idle_since < IDLE_PING_SECONDS and not _server_spoke(dbapi_connection):
            return
        try:
            alive = engine.dialect.do_ping(dbapi_connection)
        except engine.dialect.loaded_dbapi.Error:
            alive = False
        if not alive:
            raise sa.exc.DisconnectionError("The pooled connection is gone; a fresh one is opened.")


def _server_spoke(dbapi_connection: Any) -> bool:
    """Whether the server sent something to an idle connection: it sends nothing unasked, so this is a goodbye
    (a restart's or pg_terminate_backend's notice, or the socket closed). One poll of the socket, no wait for the
    server: a read right after a restart reconnects instead of failing on the dead connection."""
    import select

    try:
        readable, _, _ = select.select([dbapi_connection.pgconn.socket], [], [], 0)
    except Exception:  # no socket any more: the ping decides
        return True
    return bool(readable)


_OPENED_BY = "governance_pid"  # the pool record's note of the process that opened the connection


def _one_process_per_connection(engine: Engine) -> None:
    """A process forked after the register was opened (multiprocessing, a web server's workers) inherits the
    pool's connections: two processes talking on one socket break each other's writes (SQLite: the child would
    use a connection whose file locks are its parent's, which SQLite forbids). A connection checked out
    in another process than the one that opened it is dropped there, unclosed (closing it would end the other
    process's session), and a fresh one opened (SQLAlchemy's recipe for pools and ``os.fork``)."""

    @event.listens_for(engine, "connect")
    def _on_connect(_dbapi_connection: Any, record: Any) -> None:
        record.info[_OPENED_BY] = os.getpid()

    @event.listens_for(engine, "checkout")
    def _on_checkout(_dbapi_connection: Any, record: Any, proxy: Any) -> None:
        if record.info.get(_OPENED_BY, os.getpid()) != os.getpid():
            record.dbapi_connection = proxy.dbapi_connection = None
            raise sa.exc.DisconnectionError("A connection of another process; a fresh one is opened.")


@contextmanager
def write_transaction(engine: Engine) -> Iterator[Connection]:
    """A transaction that holds the register's write lock until it commits or rolls back.

    A full disk rolls the change back whole; it is reported as such, not as a database traceback.
    """
    with locked_write(engine) as (connection, _first):
        yield connection


class HeldConnection:
    """The connection one register's writes reuse, checked out of SQLAlchemy's pool once rather than per write
    (checking one out and in again, with its events and reset, was a fifth of a write's processor time on
    PostgreSQL, and on SQLite a tenth of a single write's; an idle SQLite connection holds no lock).
    Each write is still its own transaction; a connection the server dropped is replaced (see
    :func:`locked_write`). Only the thread and process that took it reuse it; others check one out per write."""

    def __init__(self) -> None:
        # the process and thread it belongs to, with it: one attribute, replaced whole, so that two threads
        # never see one's connection under the other's name
        self.held: tuple[tuple[int, int], Connection] | None = None

    @property
    def connection(self) -> Connection | None:
        return self.held[1] if self.held is not None else None

    def take(self, engine: Engine) -> Connection | None:
        """The held connection, opened if need be; ``None`` where it cannot be reused (another thread or
        process, a transaction already open on it)."""
        import threading

        here, held = (os.getpid(), threading.get_ident()), self.held
        if held is not None and held[0] != here:
            return None
        if held is not None:
            connection = held[1]
            if not (connection.invalidated or connection.closed):
                # a write inside a write: not on the same connection
                return None if connection.in_transaction() else connection
            self.release()
        connection = engine.connect()
        connection.execution_options(**{_WRITE: True})
        self.held = (here, connection)
        return connection

    def release(self) -> None:
        """Give the connection back to the pool (its transaction, if any, rolled back); one another process
        opened (a fork) is let go unclosed: closing it would end that process's session."""
        held, self.held = self.held, None
        if held is not None and held[0][0] == os.getpid():
            held[1].close()


@contextmanager
def _write_connection(engine: Engine, held: HeldConnection | None) -> Iterator[Connection]:
    """The held connection (:class:`HeldConnection`), else one checked out of the pool for this write."""
    connection = held.take(engine) if held is not None else None
    if connection is not None:
        yield connection
        return
    with engine.connect() as connection:
        connection.execution_options(**{_WRITE: True})
        yield connection


@contextmanager
def locked_write(
    engine: Engine, first: str | None = None, parameters: Any = None, held: HeldConnection | None = None
) -> Iterator[tuple[Connection, dict[str, Any] | None]]:
    """:func:`write_transaction` that also runs ``first`` (one SELECT, with ``parameters`` if any) right after
    taking the lock, and gives its first row. On PostgreSQL BEGIN, the lock and ``first`` go to the server
    together, so a writer waits for the server once where it waited three times; each statement still runs after
    the one before it, so ``first`` sees everything committed before the lock was granted. ``held``: the
    connection to write on, kept across writes (:class:`HeldConnection`)."""
    try:
        for retry in (True, False):  # once more on a fresh connection if the pooled one was gone
            try:
                with _write_connection(engine, held) as connection:
                    if engine.dialect.name == "postgresql":
                        with _postgres_write(connection, (first, parameters), retry=retry) as found:
                            yield connection, found
                    else:
                        if retry and not same_file(connection.info):
                            let_go_of_replaced(connection.connection.driver_connection)
                            connection.invalidate()  # closed before the new file is opened
                            raise _StaleConnection
                        with connection.begin():
                            found = (
                                first_row(driver_execute(connection, first, parameters))
                                if first is not None
                                else None
                            )
                            yield connection, found
                            pause_at(
                                "register-commit"
                            )  # the crash tests kill -9 here: rows and event written
                return
            except _StaleConnection:  # the server restarted: the pool's other connections are gone too
                engine.dispose()
                continue
    except sa.exc.DBAPIError as exc:
        denied = permission_denied(exc, engine)
        if denied is not None:
            raise denied from exc
        if exc.statement is None and _server_lost(exc, engine):  # could not connect: nothing was sent
            raise server_unavailable(exc, engine, "so nothing was recorded") from exc
        if not (isinstance(exc, sa.exc.OperationalError) and _is_disk_full(exc)):
            raise _write_failed(exc, engine) from exc
        raise DiskFullError(
            f"The disk holding the register at {describe(engine.url)} is full, so the change was not recorded; "
            f"{_FREE_SPACE}"
        ) from exc


def _write_failed(exc: sa.exc.DBAPIError, engine: Engine) -> WriteFailed:
    """A write the database refused, or whose connection broke, in one sentence: SQLAlchemy's own message holds
    the whole statement and its values, which tell a user nothing."""
    where = describe(engine.url)
    if _lock_waited(exc):
        return WriteFailed(
            f"Another program kept the register at {where} locked for over {BUSY_TIMEOUT_SECONDS} seconds while "
            "it wrote, so nothing was recorded; run the command again when it has finished."
        )
    if getattr(exc.orig, "sqlite_errorcode", 0) & 0xFF == sqlite3.SQLITE_READONLY:  # chmod, a read-only mount
        return WriteFailed(
            f"The register file {where} cannot be written (a read-only file, folder or disk), so nothing was "
            "recorded; make it writable and run the command again."
        )
    if exc.connection_invalidated:  # the COMMIT may have reached the server before the connection broke
        return WriteFailed(
            f"The connection to the register at {where} broke during the change, so it may not have been "
            "recorded; look for it with {history} and run the command again if it is missing.",
            **advice("history"),
        )
    return WriteFailed(
        f"The register at {where} refused the change ({_first_line(exc)}), so nothing was recorded; run "
        "{verify}, then the command again.",
        **advice("verify"),
    )


def _lock_waited(exc: sa.exc.DBAPIError) -> bool:
    """Whether another program's lock was held past the busy timeout (SQLite's, PostgreSQL's lock_timeout)."""
    return (
        getattr(exc.orig, "sqlite_errorcode", None) == sqlite3.SQLITE_BUSY  # the busy timeout ran out
        or getattr(exc.orig, "sqlstate", None) == "55P03"  # ... PostgreSQL's lock_timeout (_lock_wait)
    )


class WriteFailed(RegisterError):
    """A write the database refused or lost (:func:`_write_failed`); its cause is the driver's error."""


class _StaleConnection(Exception):
    """The pooled connection was closed by the server before this write sent anything (a restart): nothing was
    written, so the write starts again on a fresh connection, as a ping before each write would have done."""


@contextmanager
def _postgres_write(
    connection: Connection, first: tuple[str | None, Any], *, retry: bool
) -> Iterator[dict[str, Any] | None]:
    """Our own BEGIN, sent with the advisory lock and ``first`` in one exchange with the server (see
    :func:`_begin_locked`; psycopg would send its BEGIN alone); the driver is in autocommit for it, so its COMMIT
    or ROLLBACK ends this transaction."""
    import psycopg

    dbapi = connection.connection.dbapi_connection
    assert dbapi is not None
    dbapi.autocommit = True
    try:
        with connection.begin():
            try:
                found = _begin_locked(dbapi, first)
            except connection.dialect.loaded_dbapi.Error as exc:
                statement = f"BEGIN; {_lock_wait()}; {_LOCK}{'; ' + first[0] if first[0] else ''}"
                gone, wrapped = _as_sqlalchemy_error(connection, exc, None, statement, first[1])
                if gone and retry:
                    raise _StaleConnection from exc
                raise wrapped from exc
            yield found
            if dbapi.pgconn.transaction_status != psycopg.pq.TransactionStatus.IDLE:  # not committed already
                pause_at(
                    "register-commit"
                )  # the crash tests kill -9 here: rows and event written, not committed
    finally:
        if not dbapi.closed:
            try:
                dbapi.autocommit = False
            except Exception:  # a broken connection: the pool replaces it
                connection.invalidate()


_LOCK = f"SELECT pg_advisory_xact_lock({ADVISORY_LOCK_KEY})"


def _lock_wait() -> str:
    """How long this transaction waits for a lock: another program holding the write lock (a hung command, an open
    psql session) held every write back for ever; now the busy timeout, as on SQLite, then one sentence. Set in the
    transaction, not the session, so that a pooler in transaction mode passes it on."""
    return f"SET LOCAL lock_timeout = {BUSY_TIMEOUT_SECONDS * 1000}"


def _begin_locked(dbapi: Any, given: tuple[str | None, Any]) -> dict[str, Any] | None:
    """BEGIN, the write lock, then ``first``, sent to the server together (one wait for it): as a pipeline of
    prepared statements through libpq (:mod:`.wire`), so that the server plans the chain head's query once per
    connection, not per write (that planning took longer than the query); as one simple query where libpq has no
    pipelines. Each runs after the one before it, so ``first`` sees everything committed before the lock was
    granted."""
    import psycopg

    first, parameters = given
    if not psycopg.Pipeline.is_supported():  # pragma: no cover - libpq before 14
        with dbapi.cursor() as cursor:
            if parameters is not None:  # a simple query takes none: BEGIN and the lock first
                cursor.execute(f"BEGIN; {_lock_wait()}; {_LOCK}")
                cursor.execute(first, parameters)
                return _first_found(cursor, first)
            cursor.execute(f"BEGIN; {_lock_wait()}; {_LOCK}{'; ' + first if first else ''}")
            while cursor.nextset():  # BEGIN's status, the lock's row, then ``first``'s rows: the last counts
                pass
            return _first_found(cursor, first)
    from governance.register.wire import STATEMENTS_LOST, row
    from governance.register.wire import pipeline as pipeline_of

    pipeline = pipeline_of(dbapi)
    steps: list[tuple[str, Any]] = [("BEGIN", None), (_lock_wait(), None), (_LOCK, ())]
    if first is not None:
        steps.append((first, parameters or ()))
    try:
        results = pipeline.run(steps)
    except STATEMENTS_LOST:
        dbapi.rollback()  # deallocated behind our back, or by a pooler: prepared again, once
        results = pipeline.run(steps)
    return row(results[-1], pipeline.encoding) if first is not None else None


_COLUMN_NAMES: dict[str, list[str]] = {}  # of each ``first`` query: read from the driver once, not per write


def _first_found(cursor: Any, first: str | None) -> dict[str, Any] | None:
    """The first row of ``first``'s result (the cursor's current one) by column name."""
    if first is None:
        return None
    row = cursor.fetchone()
    if row is None:
        return None
    names = _COLUMN_NAMES.get(first)
    if names is None:
        names = _COLUMN_NAMES[first] = [column[0] for column in cursor.description]
    return dict(zip(names, row, strict=True))


class PermissionDeniedError(RegisterError):
    """PostgreSQL refused the login role a table of the register (a grant is missing): the administrator's to fix,
    with the SQL ``register grant-sql`` prints. Nothing was written: the transaction rolled back whole."""

    exit_code: ClassVar[int] = 4


_DENIED = re.compile(r'permission denied for (?:table|relation|sequence|view) "?([^"\s]+)"?')


def permission_denied(exc: sa.exc.DBAPIError, engine: Engine) -> PermissionDeniedError | None:
    """The one sentence for PostgreSQL's "insufficient privilege" (SQLSTATE 42501), else ``None``: which table,
    which role, and how to get the grant."""
    if getattr(exc.orig, "sqlstate", None) != "42501":
        return None
    role, text = _login_role(engine), _first_line(exc)
    grant = "ask the register's administrator to run the SQL from {grant_sql_role}."
    denied = _DENIED.search(text)
    if denied is not None:
        return PermissionDeniedError(
            f"Database role {role} may not use the register's table {denied.group(1)} (permission denied); {grant}",
            **advice("grant_sql_role", role=role),
        )
    return PermissionDeniedError(
        f"The database refused database role {role} ({text}); {grant}", **advice("grant_sql_role", role=role)
    )


def _login_role(engine: Engine) -> str:
    """The role this engine logs in as: the URL's user, else libpq's default (``PGUSER``, else the OS user)."""
    return engine.url.username or os.environ.get("PGUSER") or _os_user()


def session_identity(connection: Connection) -> str:
    """Who is writing, as the backend knows it: ``pg:ROLE`` (PostgreSQL's ``session_user``, the role the
    connection logged in as: ``SET ROLE`` or ``options=-crole=...`` to a role one is a member of changes
    ``current_user`` but not who is acting), else ``os:USER`` (the operating-system account running this
    process, from the user database rather than the ``USER`` variable)."""
    if connection.dialect.name == "postgresql":
        return role_identity(connection.execute(sa.text("SELECT session_user")).scalar_one())
    return f"os:{_os_user()}"


def role_identity(role: str) -> str:
    """The identity recorded for a PostgreSQL login role (``session_user``)."""
    return f"pg:{role}"


def _os_user() -> str:
    """The operating-system account this process runs as, looked up once per effective user id (the user
    database was read again for every write)."""
    return _os_user_of(os.geteuid() if hasattr(os, "geteuid") else -1)


@cache
def _os_user_of(uid: int) -> str:
    import getpass

    try:
        import pwd

        return pwd.getpwuid(uid).pw_name
    except (ImportError, KeyError, AttributeError):  # Windows, or a uid without an entry
        try:
            return getpass.getuser()
        except Exception:  # pragma: no cover - no user name anywhere
            return "unknown"


@contextmanager
def read_transaction(engine: Engine) -> Iterator[Connection]:
    """A read-only snapshot (one transaction, so that related queries agree); a missing grant is one sentence."""
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                connection.execution_options(isolation_level="REPEATABLE READ")
            with connection.begin():
                yield connection
    except sa.exc.DBAPIError as exc:
        denied = permission_denied(exc, engine)
        if denied is not None:
            raise denied from exc
        if _server_lost(exc, engine):
            raise server_unavailable(exc, engine, "so nothing could be read") from exc
        raise


class ServerUnavailable(RegisterError):
    """The register's PostgreSQL server cannot be reached, or closed the connection (a restart, a terminated
    session, the network): the user's to retry once it is back."""


# SQLSTATEs of a lost server: connection exceptions (class 08); admin or crash shutdown; still starting up
_LOST_STATES = ("08", "57P01", "57P02", "57P03")


def _server_lost(exc: sa.exc.DBAPIError, engine: Engine) -> bool:
    """Whether a PostgreSQL error means the server went away or cannot be reached, rather than a refused query."""
    if engine.dialect.name != "postgresql" or not isinstance(exc, sa.exc.OperationalError):
        return False
    state = getattr(exc.orig, "sqlstate", None)
    return exc.connection_invalidated or state is None or state.startswith(_LOST_STATES)


# What a server tells a new connection while it starts, stops or recovers ("the database system is starting up",
# "... is shutting down", "... is not accepting connections"): libpq gives no SQLSTATE for it, only the words
_NOT_ACCEPTING = "FATAL:  the database system is "


def _not_accepting(exc: sa.exc.DBAPIError) -> bool:
    """Whether a refused connection was the server saying it is not ready (so: wait, not "check the URL")."""
    return isinstance(exc, sa.exc.OperationalError) and _NOT_ACCEPTING in str(exc.orig)


def server_unavailable(exc: sa.exc.DBAPIError, engine: Engine, consequence: str) -> ServerUnavailable:
    """One sentence: which server, what happened (the driver's first line, never the URL's password), what to do."""
    url = engine.url
    return ServerUnavailable(
        f"The PostgreSQL server of the register at {_server_of(url)} (database "
        f"{url.database}) cannot be reached or closed the connection ({_first_line(exc)}), {consequence}; check "
        "that the server is running (it may be restarting), then run the command again."
    )


def _server_of(url: sa.URL) -> str:
    """Where libpq connects: ``host:port``, or the Unix socket's folder (``?host=/path``, ``PGHOST``, or none
    given: the local socket), not a "localhost:5432" the register never used."""

    def given(key: str) -> str | None:
        value = url.query.get(key)
        return (value if isinstance(value, str) else ",".join(value)) if value else None

    host = url.host or given("host") or os.environ.get("PGHOST")
    port = url.port or given("port") or os.environ.get("PGPORT") or 5432
    if not host:
        return f"the local Unix socket (port {port})"
    if host.startswith("/"):
        return f"the Unix socket in {host} (port {port})"
    return f"{host}:{port}"
