"""The register against its database's own speed, on SQLite and PostgreSQL (issue 13, point 4).

Writes: ``Register.record_checklist_answer`` one at a time (a transaction, an event and a commit each) and
``record_checklist_answers`` in batches, against the floor of the same number of hash-chained inserts through the
database driver alone, committed the same way: the write lock, the chain's last hash read, each row hashed with the
hash before it, inserted, committed (what a correct chained write cannot skip). Single writes are also measured
against plain inserts of a row and its SHA-256, with no lock and no chain (the floor of earlier runs). Target: 3x.

Is the floor fair? It does what a correct chained write cannot skip, and no more: the register also writes the
answer's row beside its event, moves the head row, and (PostgreSQL) checks the row's foreign key and the event's
identity trigger. Neither has a unique index on the events' hash any more (revision 0010: each hash covers its own
number, the primary key, and nothing looks an event up by its hash). On PostgreSQL the chained floor uses the driver
plainly (four waits for the server); the register's single write waits twice (branch s8-writes), so single writes
are also measured against the same floor sent through psycopg's pipeline (two waits): the stricter floor.

Verify: ``Register.verify`` of 10,000 and 100,000 events against its floor: read every event once and recompute
its hash (parse the payload, canonical JSON, SHA-256), and read every row of the register's tables once.
Target: within 2x, and 100,000 events in under 10 s.

Every figure is the minimum and median of ``--runs`` (at least 3), measured back to back with its floor.
PostgreSQL comes from ``GOVERNANCE_TEST_POSTGRES_URL`` (``eval "$(bash scripts/postgres.sh start)"``); each
run gets its own schema, dropped afterwards. Without it only SQLite is measured.

Run: ``.venv/bin/python benchmarks/register/run.py [--sizes 10000 100000] [--runs 3]`` (about 10 minutes).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

import sqlalchemy as sa  # noqa: E402

from governance.register import Register  # noqa: E402
from governance.register import schema as t  # noqa: E402

CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
EVIDENCE = "Minutes of the model risk committee, 2026-11-02, item 4 (signed)."


@contextmanager
def sqlite_url() -> Iterator[str]:
    with tempfile.TemporaryDirectory() as folder:
        yield f"sqlite:///{Path(folder) / 'register.db'}"


@contextmanager
def postgres_url() -> Iterator[str]:
    """A fresh schema on the test server, first on the search path, dropped afterwards."""
    server = sa.make_url(os.environ["GOVERNANCE_TEST_POSTGRES_URL"])
    name = f"gov_bench_{uuid.uuid4().hex[:10]}"
    admin = sa.create_engine(server, isolation_level="AUTOCOMMIT", poolclass=sa.pool.NullPool)
    with admin.connect() as connection:
        connection.exec_driver_sql(f'CREATE SCHEMA "{name}"')
    try:
        yield server.update_query_dict({"options": f"-csearch_path={name}"}).render_as_string(
            hide_password=False
        )
    finally:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        admin.dispose()


def answers(start: int, count: int) -> list[dict[str, str]]:
    return [
        {"framework": "eu-ai-act", "item_id": f"eu-ai-act.item-{i}", "status": "yes", "evidence": EVIDENCE}
        for i in range(start, start + count)
    ]


def new_register(url: str) -> Register:
    register = Register(url)
    register.add_model(
        "credit-risk", owner="ana@example.com", purpose="Decide on credit", actor="ana@example.com"
    )
    return register


# ---------------------------------------------------------------------- floors


def floor_writes(
    engine: sa.Engine, count: int, per_commit: int, chained: bool = True, pipelined: bool = False
) -> float:
    """Inserts of a row and the SHA-256 of its canonical JSON, ``per_commit`` to a transaction, through the driver.

    ``chained`` (the floor the target is measured against) does what any correct hash-chained write needs: take
    the write lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: an advisory lock, sent with the read of the chain's last
    hash), hash the row together with that hash, insert it, commit: on PostgreSQL four waits for the server, BEGIN,
    the lock with the head, the INSERT, COMMIT. Without it, plain inserts (three waits): no lock, no chain.
    ``pipelined`` (PostgreSQL): the same through psycopg's pipeline, two waits as the register's own write since
    branch s8-writes (BEGIN with the lock and the head; the INSERT with COMMIT): the floor of a writer that also
    saves the waits, beside the floor of the driver used plainly."""
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        sqlite = engine.dialect.name == "sqlite"
        if sqlite:  # as the register's file: write-ahead log, autocommit off so that BEGIN is ours
            cursor.execute("PRAGMA journal_mode = WAL")
            raw.isolation_level = None  # type: ignore[attr-defined]
        key = "INTEGER PRIMARY KEY" if sqlite else "SERIAL PRIMARY KEY"
        cursor.execute(
            f"CREATE TABLE floor_rows (id {key}, body TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL)"
        )
        raw.commit()
        mark = "?" if sqlite else "%s"
        insert = f"INSERT INTO floor_rows (body, prev_hash, hash) VALUES ({mark}, {mark}, {mark})"
        head = "SELECT hash FROM floor_rows ORDER BY id DESC LIMIT 1"
        if not sqlite:
            head = f"SELECT pg_advisory_xact_lock(7713), ({head})"
        rows = answers(0, count)
        if pipelined:
            return _pipelined_floor(raw, (head, insert), rows, per_commit)
        started = _start()
        for first in range(0, count, per_commit):
            if sqlite:
                cursor.execute("BEGIN IMMEDIATE")
            prev = ""
            if chained:
                cursor.execute(head)
                found = cursor.fetchone()
                prev = (found[-1] if found is not None else None) or "0" * 64
            for row in rows[first : first + per_commit]:
                body = CANONICAL.encode({**row, "prev_hash": prev})
                digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
                cursor.execute(insert, (body, prev, digest))
                prev = digest if chained else prev
            raw.commit()
        return _stop(started)
    finally:
        raw.close()


def _pipelined_floor(raw: Any, sql: tuple[str, str], rows: list[dict[str, str]], per_commit: int) -> float:
    """:func:`floor_writes` on PostgreSQL with psycopg's pipeline: one wait for BEGIN, the lock and the head, one
    for the INSERTs and COMMIT."""
    head, insert = sql
    connection = raw.driver_connection
    cursor = connection.cursor()
    started = _start()
    for first in range(0, len(rows), per_commit):
        with connection.pipeline():
            cursor.execute(head)
            found = cursor.fetchone()  # the first wait
            prev = (found[-1] if found is not None else None) or "0" * 64
            for row in rows[first : first + per_commit]:
                body = CANONICAL.encode({**row, "prev_hash": prev})
                digest = hashlib.sha256(body.encode("utf-8")).hexdigest()
                cursor.execute(insert, (body, prev, digest))
                prev = digest
            connection.commit()  # sent with the INSERTs: the second wait
    return _stop(started)


def floor_verify(engine: sa.Engine) -> float:
    """Read every event once and recompute its hash; read every row of the register's tables once."""
    columns = "seq, at, actor, kind, model_name, version, payload, prev_hash, hash, identity"
    started = _start()
    with engine.connect() as connection:
        result = connection.execution_options(stream_results=True, yield_per=1000).exec_driver_sql(
            f"SELECT {columns} FROM gov_events ORDER BY seq"
        )
        for seq, at, actor, kind, model, version, payload, prev_hash, digest, identity in result:
            fields = {
                "seq": seq,
                "at": at,
                "actor": actor,
                "kind": kind,
                "model_name": model,
                "version": version,
            }
            fields.update(payload=json.loads(payload), prev_hash=prev_hash, identity=identity)
            if hashlib.sha256(CANONICAL.encode(fields).encode("utf-8")).hexdigest() != digest:
                raise SystemExit(f"floor: event {seq} does not match its hash")
        for table in t.ENTITY_TABLES:
            rows = connection.execution_options(stream_results=True, yield_per=1000).exec_driver_sql(
                f"SELECT * FROM {table} ORDER BY id"
            )
            for _row in rows:
                pass
    return _stop(started)


# ---------------------------------------------------------------------- measurements


_CPU: list[
    float
] = []  # processor time of each timed stretch, in turn (this process's: the server's is not counted)


def _start() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _stop(started: tuple[float, float]) -> float:
    """Wall time since ``started``; the processor time goes to ``_CPU``."""
    _CPU.append(time.process_time() - started[1])
    return time.perf_counter() - started[0]


Timings = tuple[
    list[float], list[float], list[float], list[float]
]  # wall times of ours, of the floor, processor-time ratios, our processor times


def measure(runs: int, ours: Callable[[], float], floor: Callable[[], float]) -> Timings:
    """``runs`` pairs of (ours, floor), back to back, and the ratio of their processor times per pair: on a shared
    machine the load stretches wall times unevenly, the processor time much less."""
    walls, floors, cpu, used = [], [], [], []
    for _ in range(runs):
        walls.append(ours())
        used.append(_CPU[-1])
        floors.append(floor())
        cpu.append(used[-1] / max(_CPU[-1], 1e-9))
    return walls, floors, cpu, used


def writes(backend: str, url_of: Callable[[], Any], runs: int, count: int, batch: int) -> None:
    def one_at_a_time() -> float:
        with url_of() as url:
            register = new_register(url)
            started = _start()
            for answer in answers(0, count):
                register.record_checklist_answer("credit-risk", actor="ravi@example.com", **answer)
            took = _stop(started)
            register.close()
        return took

    def batched() -> float:
        with url_of() as url:
            register = new_register(url)
            started = _start()
            for first in range(0, count * 5, batch):
                register.record_checklist_answers(
                    "credit-risk", answers(first, batch), actor="ravi@example.com"
                )
            took = _stop(started)
            register.close()
        return took

    def floor(n: int, per_commit: int, chained: bool = True, pipelined: bool = False) -> Callable[[], float]:
        def run() -> float:
            with url_of() as url:
                engine = sa.create_engine(url)
                took = floor_writes(engine, n, per_commit, chained, pipelined)
                engine.dispose()
            return took

        return run

    report(
        f"{backend}: {count} writes, one commit each",
        count,
        measure(runs, one_at_a_time, floor(count, 1)),
        3.0,
    )
    if backend == "postgresql":
        piped = measure(runs, one_at_a_time, floor(count, 1, pipelined=True))
        report(f"{backend}: the same, floor pipelined", count, piped, 3.0)
    plain = measure(runs, one_at_a_time, floor(count, 1, chained=False))
    report(f"{backend}: the same against plain inserts", count, plain, 3.0)
    many = measure(runs, batched, floor(count * 5, batch))
    report(f"{backend}: {count * 5} answers, {batch} to a commit", count * 5, many, 3.0)


def exchanges(url_of: Callable[[], Any]) -> None:
    """How often one write waits for the PostgreSQL server (libpq's trace of the wire protocol: one
    ``ReadyForQuery`` ends each exchange), ours against the floor's BEGIN, INSERT, COMMIT."""
    import psycopg

    with url_of() as url, tempfile.TemporaryFile() as trace:
        register = new_register(url)
        for answer in answers(0, 8):  # statements prepared, the connection pooled
            register.record_checklist_answer("credit-risk", actor="ravi@example.com", **answer)
        held = getattr(
            register, "_held", None
        )  # the connection the register's writes reuse (branch s8-pgwrite)
        if held is not None and held.connection is not None:
            pgconn = held.connection.connection.dbapi_connection.pgconn  # type: ignore[union-attr]
        else:  # main before it: a connection from the pool per write
            with register.engine.connect() as connection:
                pgconn = connection.connection.dbapi_connection.pgconn  # type: ignore[union-attr]
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(psycopg.pq.Trace.SUPPRESS_TIMESTAMPS)
        register.record_checklist_answer("credit-risk", actor="ravi@example.com", **answers(100, 1)[0])
        pgconn.untrace()
        trace.seek(0)
        waits = trace.read().decode("utf-8", "replace").count("\tReadyForQuery")
        register.close()
    print(
        f"postgresql: one write waits for the server {waits} times (the chained floor: 4, BEGIN, the lock with "
        "the head, INSERT, COMMIT; pipelined: 2)"
    )


def verify(backend: str, url_of: Callable[[], Any], runs: int, sizes: list[int]) -> None:
    for size in sizes:
        with url_of() as url:
            register = new_register(url)
            built = time.perf_counter()
            for first in range(0, size - 1, 2000):
                register.record_checklist_answers(
                    "credit-risk", answers(first, min(2000, size - 1 - first)), actor="ravi@example.com"
                )
            print(f"  ({backend}: {size:,} events written in {time.perf_counter() - built:.0f} s)")
            engine = sa.create_engine(url)
            timings = measure(runs, partial(verify_once, register, size), partial(floor_verify, engine))
            report(f"{backend}: verify {size:,} events", size, timings, 2.0)
            engine.dispose()
            register.close()


def verify_once(register: Register, size: int) -> float:
    started = _start()
    result = register.verify()
    took = _stop(started)
    if not result.ok or result.events_checked != size:
        raise SystemExit(f"verify: {result.events_checked} events, ok={result.ok}")
    return took


def report(label: str, count: int, timings: Timings, target: float) -> None:
    ours, floors, cpu, used = timings
    ratios = sorted(a / b for a, b in zip(ours, floors, strict=True))
    print(
        f"{label:<45} ours {min(ours):7.2f} / {statistics.median(ours):7.2f} s "
        f"({count / statistics.median(ours):8,.0f}/s)   floor {min(floors):6.2f} / {statistics.median(floors):6.2f} s "
        f"({count / statistics.median(floors):8,.0f}/s)   ratio min {ratios[0]:.2f} median {statistics.median(ratios):.2f}"
        f" (target {target:g}); processor time ratio min {min(cpu):.2f} median {statistics.median(cpu):.2f}"
        f" (ours {min(used):.2f} / {statistics.median(used):.2f} s)",
        flush=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--writes", type=int, default=300, help="writes one at a time (x5 for the batches)")
    parser.add_argument("--batch", type=int, default=100, help="answers to a commit in the batched writes")
    parser.add_argument(
        "--sizes", type=int, nargs="*", default=[10_000, 100_000], help="events to verify (none: writes only)"
    )
    parser.add_argument(
        "--backends", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    args = parser.parse_args()
    runs = max(3, args.runs)
    backends = {"sqlite": sqlite_url, "postgresql": postgres_url}
    if "postgresql" in args.backends and not os.environ.get("GOVERNANCE_TEST_POSTGRES_URL"):
        print("GOVERNANCE_TEST_POSTGRES_URL is not set: PostgreSQL is left out.")
        args.backends = [name for name in args.backends if name != "postgresql"]
    print(f"Load average (1, 5, 15 min) at the start: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print(
        "Each line: min / median of ours and of its floor, the ratio ours / floor per run, and the same ratio of "
        "this process's processor time."
    )
    for backend in args.backends:
        if backend == "postgresql":
            exchanges(backends[backend])
        writes(backend, backends[backend], runs, args.writes, args.batch)
        verify(backend, backends[backend], runs, args.sizes)
    print(f"Load average (1, 5, 15 min) at the end: {', '.join(f'{v:.1f}' for v in os.getloadavg())}")


if __name__ == "__main__":
    main()
