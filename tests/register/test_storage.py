"""Storage: migrations on open, refusal of damaged and foreign databases (left untouched), and atomic changes."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

from governance.errors import CorruptRegisterError, RegisterError
from governance.register import Register
from governance.register import schema as t
from governance.register.database import head_revision, known_revisions, migrate, parse_url

FIRST = "0001_initial"


def table_names(url: str) -> set[str]:
    engine = sa.create_engine(parse_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            return set(sa.inspect(connection).get_table_names())
    finally:
        engine.dispose()


def test_migrations_are_named_and_linear() -> None:
    assert known_revisions() == {
        "0001_initial",
        "0002_checklists_incidents",
        "0003_signing",
        "0004_audit_manifest",
        "0005_mlflow_source",
        "0006_monitoring",
        "0007_event_identity",
        "0008_ed25519_signatures",
        "0009_mitigation_runs",
        "0010_event_hash_index",
    }
    assert head_revision() == "0010_event_hash_index"
    folder = Path(__file__).resolve().parents[2] / "governance" / "register" / "migrations" / "versions"
    assert sorted(p.stem for p in folder.glob("*.py")) == sorted(known_revisions())


def test_the_migrations_build_exactly_the_declared_schema(register_url: str) -> None:
    Register(register_url).close()
    engine = sa.create_engine(parse_url(register_url), poolclass=sa.pool.NullPool)
    with engine.connect() as connection:
        inspector = sa.inspect(connection)
        for table in t.metadata.sorted_tables:
            columns = {c["name"]: c["nullable"] for c in inspector.get_columns(table.name)}
            assert columns == {c.name: c.nullable for c in table.columns}, table.name
            indexes = {
                index["name"]
                for index in inspector.get_indexes(table.name)
                if index["name"] in {i.name for i in table.indexes}
            }
            assert indexes == {index.name for index in table.indexes}, table.name
    engine.dispose()


def schema_differences(url: str, metadata: sa.MetaData) -> list[Any]:
    """What Alembic's autogenerate would change to turn the migrated database into ``metadata``."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    engine = sa.create_engine(parse_url(url), poolclass=sa.pool.NullPool)
    try:
        with engine.connect() as connection:
            options = {"compare_type": True, "compare_server_default": True, "version_table": t.VERSION_TABLE}
            context = MigrationContext.configure(connection, opts=options)
            return list(compare_metadata(context, metadata))
    finally:
        engine.dispose()


def test_the_migrations_mirror_schema_py_exactly(register_url: str) -> None:
    """schema.py repeats what the migrations create (intended: queries need the tables, migrations must never
    change): Alembic finds no table, column, type, default, key, constraint or index that differs."""
    Register(register_url).close()
    assert schema_differences(register_url, t.metadata) == []
    # and the check has teeth: a column that only schema.py declares is found
    drifted = sa.MetaData()
    for table in t.metadata.sorted_tables:
        table.to_metadata(drifted)
    drifted.tables["gov_models"].append_column(sa.Column("nickname", sa.String(50)))
    assert [d[0] for d in schema_differences(register_url, drifted)] == ["add_column"]


def test_an_older_register_migrates_on_open(register_url: str, workspace: Path, clock: object) -> None:
    # build the register as the first release left it, with a model in it
    engine = sa.create_engine(parse_url(register_url), poolclass=sa.pool.NullPool)
    if engine.dialect.name == "sqlite":
        Path(str(engine.url.database)).parent.mkdir(parents=True, exist_ok=True)
    migrate(engine, FIRST)
    engine.dispose()
    assert "gov_incidents" not in table_names(register_url)
    with Register(register_url, workspace_root=workspace, _migrate_to=FIRST) as old:
        old.add_model("legacy", owner="o", purpose="p", actor="a@x")
    with Register(register_url, workspace_root=workspace) as register:
        with register.engine.connect() as connection:
            assert (
                connection.exec_driver_sql("SELECT version_num FROM gov_alembic_version").scalar()
                == head_revision()
            )
        assert {"gov_incidents", "gov_checklist_answers"} <= table_names(register_url)
        assert register.get_model("legacy").owner == "o"
        register.record_checklist_answer(
            "legacy", framework="f", item_id="i", status="yes", evidence="", actor="b"
        )
        assert register.verify().ok


def test_a_register_from_a_newer_release_is_refused(register_url: str) -> None:
    Register(register_url).close()
    engine = sa.create_engine(parse_url(register_url), poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE gov_alembic_version SET version_num = '0099_future'")
    engine.dispose()
    with pytest.raises(
        RegisterError, match=r"schema '0099_future', which this version of governance does not know"
    ):
        Register(register_url)


@pytest.mark.parametrize(
    "content",
    [b"this is a CSV file,not a database\n1,2\n", os.urandom(4096), b"SQLite format 3\x00" + b"\xff" * 4000],
    ids=["text", "random", "damaged-sqlite"],
)
def test_a_file_that_is_not_a_register_is_refused_and_untouched(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "register.db"
    path.write_bytes(content)
    with pytest.raises(CorruptRegisterError, match="left untouched") as caught:
        Register(f"sqlite:///{path}")
    assert caught.value.exit_code == 4
    assert path.read_bytes() == content
    assert sorted(p.name for p in tmp_path.iterdir()) == ["register.db"]


def test_another_programs_sqlite_database_is_refused_and_untouched(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT)")
    connection.execute("INSERT INTO customers (name) VALUES ('Ada')")
    connection.commit()
    connection.close()
    before = path.read_bytes()
    with pytest.raises(CorruptRegisterError, match=r"holds tables that are not a register's \(customers\)"):
        Register(f"sqlite:///{path}")
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["app.db"]


@pytest.mark.postgres
def test_another_programs_postgresql_database_is_refused_and_untouched() -> None:
    from register_support import fresh_postgres_database

    for url in fresh_postgres_database():
        engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
        with engine.begin() as connection:
            connection.exec_driver_sql("CREATE TABLE customers (id serial primary key, name text)")
            connection.exec_driver_sql("INSERT INTO customers (name) VALUES ('Ada')")
        with pytest.raises(CorruptRegisterError, match=r"customers"):
            Register(url)
        with engine.connect() as connection:
            assert set(sa.inspect(connection).get_table_names()) == {"customers"}
            assert connection.exec_driver_sql("SELECT name FROM customers").scalars().all() == ["Ada"]
        engine.dispose()


def test_an_unreachable_server_is_a_clear_error() -> None:
    with pytest.raises(
        RegisterError, match=r"Cannot open the register at postgresql\+psycopg://u:\*\*\*@127.0.0.1:9/x"
    ):
        Register("postgresql://u:secret@127.0.0.1:9/x?connect_timeout=2")


def test_a_failure_half_way_leaves_no_row(register: Register, backend: str, clock: object) -> None:
    """A model row is inserted before its event; when the event cannot be written, neither remains."""
    register.add_model("before", owner="o", purpose="p", actor="a")
    with register.engine.begin() as connection:
        if backend == "sqlite":
            connection.exec_driver_sql(
                "CREATE TRIGGER fail_events BEFORE INSERT ON gov_events BEGIN SELECT RAISE(ABORT, 'disk full'); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION fail_events() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$ "
                "LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER fail_events BEFORE INSERT ON gov_events FOR EACH ROW EXECUTE FUNCTION fail_events()"
            )
    with pytest.raises(RegisterError, match=r"refused the change \(disk full\)"):  # one sentence, no SQL
        register.add_model("during", owner="o", purpose="p", actor="a")
    with register.engine.begin() as connection:
        connection.exec_driver_sql(
            "DROP TRIGGER fail_events" + (" ON gov_events" if backend != "sqlite" else "")
        )
    assert [m.name for m in register.list_models()] == ["before"]
    assert register.verify().ok
    register.add_model("after", owner="o", purpose="p", actor="a")
    assert [e.seq for e in register.history()] == [1, 2]


CHILD = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from sqlalchemy import event
    from governance.register import Register

    url, marker = sys.argv[1], Path(sys.argv[2])
    register = Register(url)
    if register.engine.dialect.name == "sqlite":
        def pause():
            marker.write_text("inside")
            time.sleep(60)
            return 0
        @event.listens_for(register.engine, "connect")
        def add_pause(dbapi_connection, _record):
            dbapi_connection.create_function("pause", 0, pause)
        register.engine.dispose()
    else:
        marker.write_text("inside")  # the parent waits for pg_sleep in pg_stat_activity instead
    register.add_model("killed", owner="o", purpose="p", actor="a")
    """
)


def test_a_process_killed_in_the_middle_leaves_no_row(
    register: Register, register_url: str, backend: str, tmp_path: Path
) -> None:
    register.add_model("before", owner="o", purpose="p", actor="a")
    with register.engine.begin() as connection:
        if backend == "sqlite":
            connection.exec_driver_sql(
                "CREATE TRIGGER slow_events AFTER INSERT ON gov_models BEGIN SELECT pause(); END"
            )
        else:
            connection.exec_driver_sql(
                "CREATE FUNCTION slow_events() RETURNS trigger AS $$ BEGIN PERFORM pg_sleep(60); RETURN NEW; END $$ "
                "LANGUAGE plpgsql"
            )
            connection.exec_driver_sql(
                "CREATE TRIGGER slow_events AFTER INSERT ON gov_models FOR EACH ROW EXECUTE FUNCTION slow_events()"
            )
    marker = tmp_path / "marker"
    child = subprocess.Popen([sys.executable, "-c", CHILD, register_url, str(marker)])
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if backend == "sqlite" and marker.exists():
                break
            if backend == "postgresql" and marker.exists():
                with register.engine.connect() as connection:
                    sleeping = connection.exec_driver_sql(
                        "SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'PgSleep'"
                    ).scalar()
                if sleeping:
                    break
            time.sleep(0.05)
        else:
            pytest.fail("the child process never reached the middle of its transaction")
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    if (
        backend == "postgresql"
    ):  # the server ends the dead client's transaction when it notices the socket closed
        with register.engine.connect() as connection:
            connection.exec_driver_sql(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE wait_event = 'PgSleep'"
            )
    with register.engine.begin() as connection:
        connection.exec_driver_sql(
            "DROP TRIGGER slow_events" + (" ON gov_models" if backend != "sqlite" else "")
        )
    assert [m.name for m in register.list_models()] == ["before"]
    assert register.verify().ok
    register.add_model("after", owner="o", purpose="p", actor="a")
    assert [m.name for m in register.list_models()] == ["after", "before"]
