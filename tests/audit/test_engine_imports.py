"""An audit of saved decisions in a local file, a DuckDB table or a PostgreSQL table asks the engine one GROUP BY
in plain SQL: no Ibis, sqlglot, pandas or pyarrow in the process (their imports cost more than DuckDB's whole
query on 50 million rows, benchmarks/engine), and the table is read once. Speed itself is in benchmarks/."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from engine_support import WATCH_IMPORTS, prediction_log, write_duckdb

HEAVY = ("ibis", "sqlglot", "pandas", "pyarrow")


def _audit_in_subprocess(
    tmp_path: Path, *source: str, sensitive: str = "sex", watched: tuple[str, ...] = HEAVY
) -> list[str]:
    loaded_modules: list[str] = _run_audit(
        tmp_path, WATCH_IMPORTS.format(watched=watched), *source, sensitive=sensitive
    )
    return loaded_modules


def _run_audit(tmp_path: Path, script: str, *source: str, sensitive: str = "sex", code: int = 0) -> Any:
    """What ``script`` (one of the runners below) reported from a whole ``governance audit`` process (its exit
    code checked; a failure writes nothing). A query left running would keep the process past the timeout."""
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: T\n", encoding="utf-8")
    loaded = tmp_path / "loaded.json"
    args = ["audit", "vendor@1", "--no-register", "--no-figures", "--workspace", str(tmp_path), *source]
    args += ["--predictions", "hired", "--target", "performed", "--sensitive", sensitive, "--n-boot", "20"]
    args += ["--json", str(tmp_path / "a.json")]
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    run = subprocess.run(
        [sys.executable, "-c", script, str(loaded), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    if code:
        assert run.returncode == code, run.stderr
        assert "Traceback" not in run.stderr, run.stderr
        assert not (tmp_path / "a.json").exists() and not (tmp_path / "audits").exists()
    else:
        assert run.returncode in (0, 1, 3), run.stderr
        assert json.loads((tmp_path / "a.json").read_text())["data"]["n_rows"] == 3000
    return json.loads(loaded.read_text())


def test_a_parquet_log_is_audited_without_ibis_sqlglot_pandas_or_pyarrow(tmp_path: Path) -> None:
    parquet = tmp_path / "log.parquet"
    prediction_log().to_parquet(parquet)
    assert _audit_in_subprocess(tmp_path, "--data", str(parquet), sensitive="race") == []


def test_an_audit_without_the_register_loads_no_database_library(tmp_path: Path) -> None:
    """``--no-register`` means no register: SQLAlchemy (about 0.6 s of start-up) is not imported for it."""
    parquet = tmp_path / "log.parquet"
    prediction_log().to_parquet(parquet)
    assert (
        _audit_in_subprocess(tmp_path, "--data", str(parquet), sensitive="race", watched=("sqlalchemy",))
        == []
    )


def test_a_duckdb_table_is_audited_without_ibis_sqlglot_pandas_or_pyarrow(tmp_path: Path) -> None:
    url = write_duckdb(prediction_log(), tmp_path / "log.duckdb")
    assert _audit_in_subprocess(tmp_path, "--table", "log", "--connection", url) == []


# scipy.special alone costs about 0.3 s of processor time (it loads numpy.ma, numpy.f2py and numpy.testing
# through its array-API layer): the table audit's normal quantile and chi-square tail are governance.special's.
SCIPY = ("scipy", "scipy.special", "numpy.ma", "numpy.f2py", "numpy.testing")


def test_a_duckdb_table_is_audited_without_scipy(tmp_path: Path) -> None:
    url = write_duckdb(prediction_log(), tmp_path / "log.duckdb")
    assert _audit_in_subprocess(tmp_path, "--table", "log", "--connection", url, watched=SCIPY) == []


@contextmanager
def pg_log_view(prefix: str, body: str, *, sequence: str | None = None) -> Iterator[tuple[Any, str, str]]:
    """A fresh schema on the test server with the prediction log as ``rows`` and a view ``log`` over a function
    that runs ``body`` (``{schema}`` filled in) before it returns the rows; yields the engine, the schema and a
    URL for ``--connection``; the schema is dropped afterwards."""
    import sqlalchemy as sa

    raw = os.environ.get("GOVERNANCE_TEST_POSTGRES_URL")
    assert raw, 'GOVERNANCE_TEST_POSTGRES_URL is not set: eval "$(bash scripts/postgres.sh start)"'
    server = sa.make_url(raw)
    schema = f"{prefix}_{uuid.uuid4().hex[:10]}"
    engine = sa.create_engine(server, poolclass=sa.pool.NullPool)
    with engine.begin() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        prediction_log().to_sql("rows", connection, schema=schema, index=False)
        if sequence:
            connection.exec_driver_sql(f'CREATE SEQUENCE "{schema}".{sequence}')
        connection.exec_driver_sql(
            f'CREATE FUNCTION "{schema}".log_rows() RETURNS SETOF "{schema}".rows LANGUAGE plpgsql AS $$ '
            f'BEGIN {body.format(schema=schema)}; RETURN QUERY SELECT * FROM "{schema}".rows; END $$'
        )
        connection.exec_driver_sql(f'CREATE VIEW "{schema}".log AS SELECT * FROM "{schema}".log_rows()')
    try:
        yield engine, schema, server.set(drivername="postgresql").render_as_string(hide_password=False)
    finally:
        with engine.begin() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


@pytest.mark.postgres
@pytest.mark.parametrize("weights", [[], ["--weights", "w"]], ids=["unweighted", "weighted"])
def test_a_postgres_table_is_read_once_without_ibis_sqlglot_pandas_or_pyarrow(
    tmp_path: Path, weights: list[str]
) -> None:
    """The table is a view whose every full read advances a sequence (sequences ignore transactions). Weighted:
    the fingerprint's sum, minimum and maximum of the weights come from the same pass as the count table."""
    body = "PERFORM nextval('\"{schema}\".reads')"
    with pg_log_view("gov_reads", body, sequence="reads") as (engine, schema, url):
        loaded = _audit_in_subprocess(tmp_path, "--table", f"{schema}.log", "--connection", url, *weights)
        with engine.connect() as connection:
            reads: Any = connection.exec_driver_sql(
                f'SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM "{schema}".reads'
            ).scalar()
    assert loaded == [] and reads == 1


def test_a_weighted_duckdb_table_is_read_once(tmp_path: Path) -> None:
    """DuckDB's query log (the test shares the audit's database instance) counts the statements that read the
    table: one, the count table with the weights' checks and the fingerprint's sums, not a second for the sums."""
    import duckdb

    from governance.audit.run import audit
    from governance.workspace import Workspace

    path = tmp_path / "log.duckdb"
    url = write_duckdb(prediction_log(), path)
    watcher = duckdb.connect(
        str(path), read_only=True
    )  # the same instance as the audit's read-only connection
    watcher.execute("CALL enable_logging('QueryLog')")
    result = audit(
        name="vendor", version="1", table="log", connection=url, predictions="hired", target="performed",
        sensitive=["sex"], weights="w", n_boot=20, write=False, workspace=Workspace(root=tmp_path),
    ).result  # fmt: skip
    logged = [row[0] for row in watcher.execute("SELECT message FROM duckdb_logs").fetchall()]
    reads = [sql for sql in logged if '"log"' in sql and "LIMIT 0" not in sql]
    assert len(reads) == 1, reads
    assert result.data.table is not None and result.data.n_rows == 3000
    from governance.audit.tables import refingerprint

    assert refingerprint(result.data.table, url) == result.data.table.fingerprint  # the method recorded


# Records which of the audit's libraries were loaded when the count-table query started (its thread), and which
# threads were still running when the process ended.
RUN_EARLY = """
import atexit, json, runpy, sys, threading
path, seen, start = sys.argv[1], {}, threading.Thread.start
def watched_start(thread):
    if thread.name == "governance-count-query" and "at_query" not in seen:
        seen["at_query"] = sorted(m for m in %r if m in sys.modules)
    start(thread)
threading.Thread.start = watched_start
def report():
    seen["threads"] = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    open(path, "w").write(json.dumps(seen))
atexit.register(report)
sys.argv = ["governance", *sys.argv[2:]]
runpy.run_module("governance", run_name="__main__")
"""
# What the audit loads besides the engine (about a second of processor time, benchmarks/engine): the count query
# runs in the engine meanwhile.
AUDIT_LIBRARIES = ("numpy", "scipy", "pydantic", "governance.audit.run", "governance.audit.fairness")


def test_the_count_query_starts_before_the_audit_libraries_load(tmp_path: Path) -> None:
    url = write_duckdb(prediction_log(), tmp_path / "log.duckdb")
    parquet = tmp_path / "log.parquet"
    prediction_log().to_parquet(parquet)
    for source in (["--table", "log", "--connection", url], ["--data", str(parquet)]):
        seen = _run_audit(tmp_path, RUN_EARLY % (AUDIT_LIBRARIES,), *source, "--weights", "w")
        assert seen == {"at_query": [], "threads": []}, source


# What the provenance and the error messages load (hashlib with OpenSSL, subprocess, getpass, difflib: about
# 15 ms): needed after the engine's answer, not before the command can send its query.
PROVENANCE_LIBRARIES = ("governance.provenance", "hashlib", "subprocess", "getpass", "difflib")


def test_the_count_query_starts_before_the_provenance_libraries_load(tmp_path: Path) -> None:
    url = write_duckdb(prediction_log(), tmp_path / "log.duckdb")
    parquet = tmp_path / "log.parquet"
    prediction_log().to_parquet(parquet)
    for source in (["--table", "log", "--connection", url], ["--data", str(parquet)]):
        seen = _run_audit(tmp_path, RUN_EARLY % (PROVENANCE_LIBRARIES,), *source)
        assert seen == {"at_query": [], "threads": []}, source


# Records which of the audit's libraries were loaded when the count-table query was sent to the engine.
RUN_SENT = """
import atexit, json, runpy, sys, threading
import governance.intake.sql_source as sql_source
path, seen, execute = sys.argv[1], {}, sql_source.SqlSource.execute
def watched(sql, cursor):
    if threading.current_thread().name == "governance-count-query" and "at_send" not in seen:
        seen["at_send"] = sorted(m for m in %r if m in sys.modules)
    return execute(sql, cursor)
sql_source.SqlSource.execute = staticmethod(watched)
atexit.register(lambda: open(path, "w").write(json.dumps(seen)))
sys.argv = ["governance", *sys.argv[2:]]
runpy.run_module("governance", run_name="__main__")
"""


def test_the_count_query_is_sent_before_the_audit_libraries_load(tmp_path: Path) -> None:
    """The command waits for the query to be on its way before it imports the rest: both threads importing at
    once share the interpreter lock, and PostgreSQL got its query 0.5 s later that way (benchmarks/engine)."""
    url = write_duckdb(prediction_log(), tmp_path / "log.duckdb")
    seen = _run_audit(tmp_path, RUN_SENT % (AUDIT_LIBRARIES,), "--table", "log", "--connection", url)
    assert seen == {"at_send": []}


# What came before the query was sent and need not: DuckDB's Python wrapper (its version read from the installed
# packages' metadata: importlib.metadata, email, zipfile; the DB-API type objects), and the workspace's settings
# (PyYAML): about 70 ms of processor time on the audit's critical path (benchmarks/engine).
BEFORE_SEND = ("duckdb", "importlib.metadata", "email", "yaml", "governance.workspace")


def test_the_count_query_is_sent_before_the_duckdb_wrapper_and_the_settings_load(tmp_path: Path) -> None:
    url = write_duckdb(prediction_log(), tmp_path / "log.duckdb")
    parquet = tmp_path / "log.parquet"
    prediction_log().to_parquet(parquet)
    for source in (["--table", "log", "--connection", url], ["--data", str(parquet)]):
        seen = _run_audit(tmp_path, RUN_SENT % (BEFORE_SEND,), *source)
        assert seen == {"at_send": []}, source


def test_a_duckdb_table_is_audited_with_duckdbs_compiled_client_alone(tmp_path: Path) -> None:
    """``_duckdb`` (what ``duckdb.connect`` is): the ``duckdb`` package's wrapper is never imported."""
    import importlib.util

    url = write_duckdb(prediction_log(), tmp_path / "log.duckdb")
    wrapper = [] if importlib.util.find_spec("_duckdb") else ["duckdb"]  # DuckDB before 1.4.1: the package
    loaded = _audit_in_subprocess(tmp_path, "--table", "log", "--connection", url, watched=("duckdb",))
    assert loaded == wrapper


def test_a_failure_after_the_query_started_stops_it_and_writes_nothing(tmp_path: Path) -> None:
    """The policy is read after the query started: its error is the usual one (exit 2), and DuckDB's query (a
    GROUP BY over ten billion generated rows, hours of work) is interrupted and its thread ended."""
    endless = "SELECT 'a' AS sex, 1 AS hired, 1 AS performed FROM range(10000000000)"
    script = RUN_EARLY % (AUDIT_LIBRARIES,)
    seen = _run_audit(tmp_path, script, "--query", endless, "--policy", "nowhere.yaml", code=2)
    assert seen == {"at_query": [], "threads": []}


@pytest.mark.postgres
def test_a_postgres_count_query_starts_before_the_audit_libraries_load(tmp_path: Path) -> None:

    with pg_log_view("gov_cancel", "PERFORM pg_sleep(600)") as (engine, schema, url):
        source = ["--table", f"{schema}.log", "--connection", url, "--policy", "nowhere.yaml"]
        seen = _run_audit(tmp_path, RUN_EARLY % (AUDIT_LIBRARIES,), *source, code=2)
        with engine.connect() as connection:
            running = connection.exec_driver_sql(
                "SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE %s",
                (f"%{schema}%",),
            ).scalar()
    assert seen == {"at_query": [], "threads": []} and running == 0


# Records, when the process ends, whether the command's objects were frozen out of the garbage collector and
# which psycopg connections were still open.
RUN_EXIT = """
import atexit, gc, json, runpy, sys
path = sys.argv[1]
def report():
    frozen = gc.get_freeze_count() > 0
    gc.unfreeze()  # the frozen objects too
    psycopg = sys.modules.get("psycopg")
    kind = psycopg.Connection if psycopg else ()
    still_open = [o for o in gc.get_objects() if isinstance(o, kind) and not o.closed]
    open(path, "w").write(json.dumps({"frozen": frozen, "open": len(still_open)}))
atexit.register(report)
sys.argv = ["governance", *sys.argv[2:]]
runpy.run_module("governance", run_name="__main__")
"""


def test_the_process_ends_without_collecting_the_audits_objects(tmp_path: Path) -> None:
    """Python's last collections at exit walked and freed every object the audit made, 0.1-0.15 s after the
    result was written (benchmarks/engine); the command freezes them out of the collector when it ends."""
    url = write_duckdb(prediction_log(), tmp_path / "log.duckdb")
    seen = _run_audit(tmp_path, RUN_EXIT, "--table", "log", "--connection", url)
    assert seen == {"frozen": True, "open": 0}


@pytest.mark.postgres
def test_the_postgres_connection_is_closed_when_the_command_ends(tmp_path: Path) -> None:
    """Closed by the command (the server is told the session ends), not left to the interpreter's exit."""
    with pg_log_view("gov_close", "PERFORM 1") as (_engine, schema, url):
        seen = _run_audit(tmp_path, RUN_EXIT, "--table", f"{schema}.log", "--connection", url)
    assert seen == {"frozen": True, "open": 0}


# Records the order in which the audit hashed the data file and took the engine's answer.
RUN_ORDER = """
import atexit, json, runpy, sys
import governance.intake.early as early, governance.provenance as provenance
path, order = sys.argv[1], []
answer, sha256_file = early.EarlyQuery.answer, provenance.sha256_file
def watched_answer(self):
    order.append("answer")
    return answer(self)
def watched_hash(file):
    order.append("hash " + str(file).rsplit(".", 1)[-1])
    return sha256_file(file)
early.EarlyQuery.answer, provenance.sha256_file = watched_answer, watched_hash
atexit.register(lambda: open(path, "w").write(json.dumps(order)))
sys.argv = ["governance", *sys.argv[2:]]
runpy.run_module("governance", run_name="__main__")
"""


def test_a_parquet_log_is_hashed_while_the_engine_counts(tmp_path: Path) -> None:
    """The file's hash names the data in audit.json (as when pandas reads it); reading it took 0.05 s for a
    40 MB file after the engine's answer, on the audit's critical path (benchmarks/engine)."""
    parquet = tmp_path / "log.parquet"
    prediction_log().to_parquet(parquet)
    order = _run_audit(tmp_path, RUN_ORDER, "--data", str(parquet), sensitive="race")
    assert [step for step in order if step in ("hash parquet", "answer")] == ["hash parquet", "answer"]


# Records the interpreter's switch interval while the count query runs in the engine, and when the process ends.
RUN_SWITCH = """
import atexit, json, runpy, sys, threading
import governance.intake.sql_source as sql_source
path, seen, execute = sys.argv[1], {}, sql_source.SqlSource.execute
def watched(sql, cursor):
    if threading.current_thread().name == "governance-count-query":
        seen["counting"] = sys.getswitchinterval()
    return execute(sql, cursor)
sql_source.SqlSource.execute = staticmethod(watched)
def report():
    seen["after"] = sys.getswitchinterval()
    open(path, "w").write(json.dumps(seen))
atexit.register(report)
sys.argv = ["governance", *sys.argv[2:]]
runpy.run_module("governance", run_name="__main__")
"""


def test_the_interpreter_lock_is_handed_over_quickly_while_the_engine_counts(tmp_path: Path) -> None:
    """DuckDB's client takes the interpreter lock between pieces of the query's work: with the default 5 ms
    interval its thread waited for the lock while the audit loaded its libraries (benchmarks/engine)."""
    url = write_duckdb(prediction_log(), tmp_path / "log.duckdb")
    parquet = tmp_path / "log.parquet"
    prediction_log().to_parquet(parquet)
    for source in (["--table", "log", "--connection", url], ["--data", str(parquet)]):
        seen = _run_audit(tmp_path, RUN_SWITCH, *source)
        assert seen == {"counting": pytest.approx(0.0001), "after": pytest.approx(0.005)}, source


# Counts how often the audit's whole result was turned into JSON text at once (audit.json itself is written a field
# at a time, its records made a piece at a time: governance.results.streamed).
RUN_DUMPS = """
import atexit, json, runpy, sys
from governance.results.audit import AuditResult
path, calls, dump = sys.argv[1], [], AuditResult.model_dump_json
def counted(self, *args, **kwargs):
    if "include" not in kwargs:
        calls.append(1)
    return dump(self, *args, **kwargs)
AuditResult.model_dump_json = counted
atexit.register(lambda: open(path, "w").write(json.dumps(len(calls))))
sys.argv = ["governance", *sys.argv[2:]]
runpy.run_module("governance", run_name="__main__")
"""


def test_the_json_copy_is_the_audit_folders_file(tmp_path: Path) -> None:
    """``--json`` copies audit.json byte for byte instead of serialising the whole result again: that took about
    10 ms after the engine's answer, on the audit's critical path, and made every deferred record at once."""
    url = write_duckdb(prediction_log(), tmp_path / "log.duckdb")
    assert _run_audit(tmp_path, RUN_DUMPS, "--table", "log", "--connection", url) == 0
    written = next((tmp_path / "audits").rglob("audit.json")).read_bytes()
    assert (tmp_path / "a.json").read_bytes() == written


# Records when the connection opened ahead began to close, and when the audit judged its result against the policy.
RUN_CLOSE = """
import atexit, json, runpy, sys, threading
import governance.audit.run as run
path, order, start, evaluate = sys.argv[1], [], threading.Thread.start, run.evaluate_policy
def watched_start(thread):
    if thread.name == "governance-close-source":
        order.append("close")
    start(thread)
def watched_evaluate(*args, **kwargs):
    order.append("verdict")
    return evaluate(*args, **kwargs)
threading.Thread.start, run.evaluate_policy = watched_start, watched_evaluate
def report():
    threads = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
    open(path, "w").write(json.dumps({"order": order, "threads": threads}))
atexit.register(report)
sys.argv = ["governance", *sys.argv[2:]]
runpy.run_module("governance", run_name="__main__")
"""


def test_the_engine_connection_closes_while_the_audit_judges_its_result(tmp_path: Path) -> None:
    """Closing DuckDB's database (15-30 ms on 50 million rows) came after the result was written; it now runs in
    a thread from the engine's last answer, and the command waits for it before it ends."""
    url = write_duckdb(prediction_log(), tmp_path / "log.duckdb")
    parquet = tmp_path / "log.parquet"
    prediction_log().to_parquet(parquet)
    for source in (["--table", "log", "--connection", url], ["--data", str(parquet)]):
        seen = _run_audit(tmp_path, RUN_CLOSE, *source)
        assert seen == {"order": ["close", "verdict"], "threads": []}, source


# Counts the garbage collector's passes while the audit loads its libraries: from the moment the count query's
# thread starts to the moment the audit asks for the engine's answer.
RUN_GC = """
import atexit, gc, json, runpy, sys, threading
import governance.intake.sql_source as sql_source
path, seen, passes, start, fetch = sys.argv[1], {}, [0], threading.Thread.start, sql_source.SqlSource.fetch
gc.callbacks.append(lambda phase, info: passes.__setitem__(0, passes[0] + (phase == "start")))
def watched_start(thread):
    if thread.name == "governance-count-query":
        seen["at_query"] = passes[0]
    start(thread)
def watched_fetch(self, sql, what=None):
    seen.setdefault("at_answer", passes[0])
    return fetch(self, sql, what)
threading.Thread.start, sql_source.SqlSource.fetch = watched_start, watched_fetch
atexit.register(lambda: open(path, "w").write(json.dumps(seen)))
sys.argv = ["governance", *sys.argv[2:]]
runpy.run_module("governance", run_name="__main__")
"""


def test_the_audit_libraries_load_without_the_collector_walking_them(tmp_path: Path) -> None:
    """About a hundred collections (25-60 ms of processor time) walked the objects that importing numpy, pydantic
    and the audit's modules makes, beside the engine's query; they load with the collector off and go to its
    oldest generation at once (a few passes remain, for the policy read after)."""
    url = write_duckdb(prediction_log(), tmp_path / "log.duckdb")
    seen = _run_audit(tmp_path, RUN_GC, "--table", "log", "--connection", url)
    assert seen["at_answer"] - seen["at_query"] < 20, seen  # 87 before


def test_loading_libraries_keeps_the_callers_collector_settings() -> None:
    """``main()`` in a caller's process: a collector the caller turned off stays off, objects the caller froze stay
    frozen, and nothing of ours is left frozen (the collector's next full pass sees it)."""
    import gc

    from governance.cli._common import libraries_loading

    assert gc.isenabled() and gc.get_freeze_count() == 0
    with libraries_loading():
        assert not gc.isenabled()
        kept: list[list[object]] = [[] for _ in range(1000)]
    assert gc.isenabled() and gc.get_freeze_count() == 0 and kept
    gc.disable()
    try:
        with libraries_loading():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
    gc.freeze()
    try:
        frozen = gc.get_freeze_count()
        with libraries_loading():
            kept.append([])
        assert gc.get_freeze_count() == frozen
    finally:
        gc.unfreeze()


def test_a_process_that_runs_commands_again_and_again_keeps_collecting_its_garbage() -> None:
    """``main()`` called again and again in one process (a notebook, a scheduler): the libraries are loaded by the
    first call only. Moving every object to the oldest generation on each call (and the collector's counts back to
    zero) kept each call's cycles from the collector: a command run 300 times left about 220,000 dead objects."""
    import gc

    from governance.cli._common import libraries_loading

    gc.collect()
    for _ in range(300):
        with libraries_loading():
            pass  # loaded already: a command run again in the same process
        for _ in range(3000):  # what a command leaves: cycles that nobody holds any more
            cycle: dict[str, object] = {}
            cycle["self"] = cycle
    assert gc.collect() < 20_000, "the collector missed the garbage of the calls before"


def test_a_stop_right_after_the_libraries_loaded_leaves_the_collector_on() -> None:
    """Ctrl-C (or SIGTERM) lands between two steps of putting the collector back (its handler runs between any
    two bytecodes; here right after ``gc.unfreeze()`` returns): the collector is on again, not off for the rest of
    a notebook's session."""
    import gc
    import types

    from governance.cli._common import libraries_loading

    def stop_after_unfreeze(_frame: Any, event: str, arg: Any) -> None:
        if event == "c_return" and arg is gc.unfreeze:
            sys.setprofile(None)
            raise KeyboardInterrupt

    name = f"governance_loaded_{uuid.uuid4().hex}"
    try:
        with pytest.raises(KeyboardInterrupt), libraries_loading():
            sys.modules[name] = types.ModuleType(name)  # something loaded: the objects are moved
            sys.setprofile(stop_after_unfreeze)
    finally:
        sys.setprofile(None)
        sys.modules.pop(name, None)
        collector_on = gc.isenabled()
        gc.enable()
    assert collector_on, "the collector was left off"
