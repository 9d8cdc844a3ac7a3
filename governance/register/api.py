"""The :class:`Register`: the one way to read and change the model register.

Every change runs in one locked transaction that writes the rows, appends one event carrying their
after-images to the hash chain, and moves the chain head, so a failure half-way leaves nothing behind and
``verify`` can replay the log against the tables.
"""

from __future__ import annotations

import dataclasses
import functools
import itertools
import json
import operator
import os
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pydantic
import sqlalchemy as sa
from sqlalchemy.engine import Connection, Row

from governance import provenance
from governance.errors import FieldError, GuardError, InputError, NotFoundError, RegisterError
from governance.register import chain, database, lifecycle, manifest, mitigation, queries, roles
from governance.register import schema as t
from governance.register.actions import advice
from governance.register.chain import Change
from governance.register.records import (
    CHECKLIST_STATUSES,
    SEVERITIES,
    STATUS_CATEGORIES,
    ChecklistAnswerRecord,
    ModelDescription,
    newest_answers,
)

if TYPE_CHECKING:
    from governance.audit.folders import Leftover
    from governance.intake.model_files import ModelFileCheck, Vouching
    from governance.register import records
    from governance.register.anchor import Checkpoint
    from governance.register.checks import AuditFiles
    from governance.register.overview import ModelOverview
    from governance.workspace import Workspace

VERDICTS = ("passed", "failed", "inconclusive", "reported")
EXPORT_FORMAT = "governance-register-export"
EXPORT_FORMAT_VERSION = 1
_STATUS_ORDER = {category: index for index, category in enumerate(STATUS_CATEGORIES)}
EXPORT_BATCH = 16  # models per batch of :meth:`Register.export_in_batches`


Rows = list[tuple[sa.Table, Any]]
"""The rows an event carries the after-images of, with their tables: each a row as read, or its image already
made (:func:`queries.row_image`)."""


@dataclass
class _Transaction:
    """What one write transaction has learnt, so that it is not asked of the database twice: the chain head
    (read once, then moved by each event), who the database says is writing, and rows just inserted."""

    head: tuple[int, str] | None = None
    identity: str | None = None
    inserted: dict[tuple[str, int], Row[Any]] = dataclasses.field(default_factory=dict)
    signing: tuple[int, dict[str, Any]] | bool | None = False  # the signing event as read; False: not yet
    # what the write lock's first exchange reserved: the model's id, the answers' ids (see _reserving_sql)
    reserved: dict[str, Any] | None = None


# the event columns _event_row copies from a Change, by name: a new field of Change needs its column there too
assert [field.name for field in dataclasses.fields(Change)] == [
    "actor",
    "kind",
    "model_name",
    "version",
    "at",
]
_ANSWER_COLUMNS = ("framework", "item_id", "status", "evidence", "actor", "at", "event_seq")
assert set(t.checklist_answers.c.keys()) == {
    "id",
    "model_id",
    *_ANSWER_COLUMNS,
}  # an answer's image: see below
_ANSWERS_AT_ONCE = 1000  # rows of one INSERT (SQLite takes at most 32,766 bound parameters)


def _insert_answers(
    conn: Connection, model_name: str, values: list[tuple[Any, ...]]
) -> list[tuple[int, int, int]]:
    """Insert checklist answers for the model of that name; what the database gave them (``id``, ``model_id`` and
    ``event_seq`` of each, in the order of ``values``; none when there is no such model): the model's id is
    looked up in the INSERT itself, not in a query of its own, and the statement goes to the driver directly
    (:func:`database.driver_execute`). The other columns are the values given: no need to read them back."""
    rows: list[tuple[int, int, int]] = []
    mark = "%s" if conn.dialect.name == "postgresql" else "?"
    for start in range(0, len(values), _ANSWERS_AT_ONCE):
        chunk = values[start : start + _ANSWERS_AT_ONCE]
        parameters = list(itertools.chain.from_iterable(chunk))  # by position: binding by name cost SQLite
        parameters.append(model_name)  # a third of a batched answer
        cursor = database.driver_execute(conn, _insert_answers_sql(mark, len(chunk)), parameters)
        try:
            rows += cursor.fetchall()
        finally:
            cursor.close()
    return sorted(rows, key=operator.itemgetter(2))  # PostgreSQL may return them in any order


def _value_rows(mark: str, width: int, count: int) -> str:
    """The ``(...), (...)`` of a multi-row ``VALUES``: ``count`` rows of ``width`` placeholders ``mark``."""
    return ", ".join(["(" + ", ".join([mark] * width) + ")"] * count)


@functools.lru_cache(maxsize=64)
def _insert_answers_sql(mark: str, count: int) -> str:
    table, columns = t.checklist_answers, _ANSWER_COLUMNS
    rows = _value_rows(mark, len(columns), count)
    picked = ", ".join(f"v.column{n}" for n in range(1, len(columns) + 1))
    return (
        f"INSERT INTO {table.name} (model_id, {', '.join(columns)}) "
        f"SELECT m.id, {picked} FROM {t.models.name} AS m, (VALUES {rows}) AS v "
        f"WHERE m.name = {mark} RETURNING id, model_id, event_seq"
    )


@functools.lru_cache(maxsize=4)
def _reserving_sql(head_sql: str, one: bool) -> str:
    """PostgreSQL: the chain head (``head_sql``) with the id of the model named by the first parameter and new
    ids of checklist answers (``one``, or as many as the second parameter says), drawn from their sequence under
    the write lock: the answers' rows then need no RETURNING, and go in one statement with their events and the
    head, sent with COMMIT. The sequence is the one PostgreSQL made for the SERIAL ``id`` of migration 0002, named
    here rather than looked up (``pg_get_serial_sequence`` cost the server a third of this query's time)."""
    sequence = f"nextval('{t.checklist_answers.name}_id_seq')"
    ids = f"ARRAY[{sequence}]" if one else f"ARRAY(SELECT {sequence} FROM generate_series(1, %s))"
    return (
        f"SELECT head.*, (SELECT id FROM {t.models.name} WHERE name = %s) AS model_id, {ids} AS ids "
        f"FROM ({head_sql}) AS head"
    )


@functools.lru_cache(maxsize=64)
def _answers_after_head_sql(count: int) -> str:
    """The INSERT of ``count`` answers with their ids given, written only if the chain head moved (``moved``, see
    :func:`_events_after_head_sql`): one ``WITH`` clause."""
    columns = ("id", "model_id", *_ANSWER_COLUMNS)
    rows = _value_rows("%s", len(columns), count)
    return f"INSERT INTO {t.checklist_answers.name} ({', '.join(columns)}) SELECT v.* FROM (VALUES {rows}) AS v, moved"


def _answer_parameters(values: list[tuple[Any, ...]], rows: list[tuple[int, int, int]]) -> list[Any]:
    """:func:`_answers_after_head_sql`'s parameters, by position."""
    return [item for value, row in zip(values, rows, strict=True) for item in (row[0], row[1], *value)]


def _reserved(reserved: dict[str, Any], values: list[tuple[Any, ...]]) -> list[tuple[int, int, int]]:
    """What :func:`_insert_answers` returns, from the model's id and the answer ids reserved (none: no model)."""
    if reserved["model_id"] is None:
        return []
    return [(int(i), int(reserved["model_id"]), v[-1]) for i, v in zip(reserved["ids"], values, strict=True)]


_RECORD_KEYS = (*_ANSWER_COLUMNS[:-1], "id", "model_id", "model_name")  # a value's, a row's, the model's


def _answer_images(
    values: list[tuple[Any, ...]], rows: list[tuple[int, int, int]], model_name: str
) -> list[dict[str, Any]]:
    """The records of answers just inserted (as :func:`queries.row_image` would read them back, with the model's
    name): the values given, with the ids the database gave them (text and whole numbers come back as they went
    in)."""
    assert [row[2] for row in rows] == [value[-1] for value in values]
    return [
        dict(zip(_RECORD_KEYS, (*value[:-1], *row[:2], model_name), strict=True))
        for value, row in zip(values, rows, strict=True)
    ]


def _answer_texts(values: list[tuple[Any, ...]], rows: list[tuple[int, int, int]]) -> list[str]:
    """The canonical payload of each answer's event (its row's after-image, as :func:`_payload_text` writes it,
    keys sorted): what every answer of a batch shares (actor, time, model) encoded once, each text value with
    JSON's own string encoder, each id as the whole number it is; no JSON document built per answer."""
    actor, at = values[0][4:6]
    head, tail = _payload_around(t.checklist_answers.name)
    shared = f'{head}{{"actor":{chain.encode_text(actor)},"at":{chain.encode_text(at)},'
    template = (  # a %-format: the text alike in every answer escaped (an actor may write "100%s")
        shared.replace("%", "%%")
        + f'"evidence":%s,"framework":%s,"id":%d,"item_id":%s,"model_id":{int(rows[0][1])},"status":%s}}'
        + tail.replace("%", "%%")
    )
    encode = chain.encode_text
    assert len({row[1] for row in rows}) == 1  # one model: its id alike in every row
    return [
        template % (encode(value[3]), encode(value[0]), row[0], encode(value[1]), encode(value[2]))
        for value, row in zip(values, rows, strict=True)
    ]


_EVENT_COLUMNS = (
    "seq",
    "actor",
    "at",
    "kind",
    "model_name",
    "version",
    "payload",
    "prev_hash",
    "hash",
    "hmac",
)
"""The ``gov_events`` columns an event row gives, in this order (then ``identity``, see :func:`_event_rows`)."""

EventRuns = list[tuple[Change, list[str]]]  # events: runs of canonical payload texts, each run of one change


def _event_rows(
    runs: EventRuns,
    first: tuple[int, str],
    signer: chain.SigningKey | None,
    identity: tuple[bool, str | None],
) -> list[tuple[Any, ...]]:
    """The ``gov_events`` rows of one transaction's events (columns :data:`_EVENT_COLUMNS`), numbered from
    ``first[0]`` and chained from the hash ``first[1]``: each with its payload, hash and signature, as tuples (no
    dict per event). ``identity``: whether the register keeps who wrote each event (older schemas do not), and
    who. What the events of one change share (actor, time, kind, model, version) is encoded once."""
    rows: list[tuple[Any, ...]] = []
    seq, prev = first
    kept, who = identity
    for change, texts in runs:
        said = (change.actor, change.at, change.kind, change.model_name, change.version)
        digests = chain.chained_hashes(said, who if kept else None, (seq, prev), texts)
        signed = [signer.sign(d) for d in digests] if signer is not None else [None] * len(digests)
        chained = zip(
            range(seq, seq + len(texts)), texts, [prev, *digests[:-1]], digests, signed, strict=True
        )
        if kept:
            rows += [(n, *said, text, p, d, h, who) for n, text, p, d, h in chained]
        else:
            rows += [(n, *said, text, p, d, h) for n, text, p, d, h in chained]
        seq, prev = seq + len(texts), digests[-1]
    return rows


@functools.cache
def _payload_around(table_name: str) -> tuple[str, str]:
    """The canonical payload of an event that carries one row of a table and nothing else, around its record."""
    head, *tail = provenance.canonical_json({"rows": [{"table": table_name, "record": 0}]}).split(
        '"record":0'
    )
    assert len(tail) == 1
    return head + '"record":', tail[0]


def _payload_text(rows: Rows, extra: dict[str, Any] | None) -> str:
    """An event's canonical payload: the after-images of ``rows`` and ``extra``."""
    payload: dict[str, Any] = {
        "rows": [
            {"table": table.name, "record": row if isinstance(row, dict) else queries.row_image(row)}
            for table, row in rows
        ],
        **(json.loads(provenance.canonical_json(extra)) if extra else {}),
    }
    return provenance.canonical_json(payload)  # as read back: images and extra are in JSON's own types


_EVENTS_WITH_HEAD = 500  # events inserted in the statement that moves the head (bound parameters stay few)


def _append_events(
    conn: Connection,
    values: tuple[tuple[str, ...], list[tuple[Any, ...]]],
    head: dict[str, Any],
    prev_seq: int,
    along: tuple[str, list[Any]] | None = None,
) -> int:
    """Insert the events and move the chain head from ``prev_seq``; how many heads moved (1, or 0 if another
    writer moved it). On PostgreSQL the last events go in the statement that moves the head, as a data-modifying
    ``WITH`` (one exchange with the server for both); SQLite has no such ``WITH`` and no server to wait for.
    ``along`` (PostgreSQL): the rows the events carry, as a statement written only if the head moved, and its
    parameters: sent with the events, and COMMIT with them (the transaction ends here). ``values``: the events'
    columns, and their rows (tuples in that order)."""
    if along is not None:
        return _append_events_and_commit(conn, values, head, prev_seq, along)
    columns, rows = values
    if conn.dialect.name != "postgresql":
        insert, move = _events_then_head_sql(columns, tuple(head), "?")  # by position: see above
        database.driver_execute(conn, insert, rows, many=True).close()
        return _rowcount(database.driver_execute(conn, move, (*head.values(), prev_seq)))
    earlier, last = rows[:-_EVENTS_WITH_HEAD], rows[-_EVENTS_WITH_HEAD:]
    if earlier:
        insert = _events_then_head_sql(columns, tuple(head), "%s")[0]  # by position
        database.driver_execute(conn, insert, earlier, many=True).close()
    parameters = {
        f"{column}_{index}": value
        for index, row in enumerate(last)
        for column, value in zip(columns, row, strict=True)
    }
    parameters.update({f"head_{column}": value for column, value in head.items()}, prev_seq=prev_seq)
    sql = _events_and_head_sql(columns, tuple(head), len(last))
    return _rowcount(database.driver_execute(conn, sql, parameters))


def _append_events_and_commit(
    conn: Connection,
    values: tuple[tuple[str, ...], list[tuple[Any, ...]]],
    head: dict[str, Any],
    prev_seq: int,
    along: tuple[str, list[Any]],
) -> int:
    """:func:`_append_events` with ``along``: the head moved, the rows and the events in one statement, sent with
    COMMIT (:func:`database.execute_and_commit`). The rows and events are written only if the head moved."""
    columns, rows = values
    sql = _events_after_head_sql(columns, tuple(head), len(rows), along[0])
    parameters = [*head.values(), prev_seq, *along[1]]
    parameters += itertools.chain.from_iterable(rows)  # every event's columns in order
    one = len(rows) == 1  # prepared once per connection; batches come in many sizes, planned each time
    return int(database.execute_and_commit(conn, sql, parameters, prepare=one) == len(rows))


@functools.lru_cache(maxsize=64)
def _events_after_head_sql(columns: tuple[str, ...], head: tuple[str, ...], count: int, along: str) -> str:
    """``WITH moved AS (UPDATE gov_chain_head ...), along AS (...) INSERT INTO gov_events ...``: the events and
    ``along`` are written only if the head moved from the seq given (parameters by position: the head's, the
    previous seq, ``along``'s, then each event's)."""
    rows = _value_rows("%s", len(columns), count)
    moved = ", ".join(f"{column} = %s" for column in head)
    return (
        f"WITH moved AS (UPDATE {t.chain_head.name} SET {moved} WHERE id = 1 AND seq = %s RETURNING id), "
        f"along AS ({along}) "
        f"INSERT INTO {t.events.name} ({', '.join(columns)}) SELECT v.* FROM (VALUES {rows}) AS v, moved"
    )


def _rowcount(cursor: Any) -> int:
    """Rows the cursor's statement changed, and the cursor closed."""
    try:
        return int(cursor.rowcount)
    finally:
        cursor.close()


@functools.lru_cache(maxsize=64)
def _events_then_head_sql(columns: tuple[str, ...], head: tuple[str, ...], mark: str) -> tuple[str, str]:
    """The INSERT of events and the UPDATE of the head (``mark``: the driver's named parameter, ``%({})s``, or
    ``?`` for parameters by position, in the order of ``columns``, then ``head``'s and the previous head's seq),
    written once (not built and compiled per write)."""
    named = ", ".join(mark.format(column) for column in columns)
    moved = ", ".join(f"{column} = {mark.format(column)}" for column in head)
    return (
        f"INSERT INTO {t.events.name} ({', '.join(columns)}) VALUES ({named})",
        f"UPDATE {t.chain_head.name} SET {moved} WHERE id = 1 AND seq = {mark.format('prev_seq')}",
    )


@functools.lru_cache(maxsize=64)
def _events_and_head_sql(columns: tuple[str, ...], head: tuple[str, ...], count: int) -> str:
    """``WITH appended AS (INSERT INTO gov_events ...) UPDATE gov_chain_head ...`` for ``count`` events, written
    once per shape (SQLAlchemy would compile a multi-row ``WITH`` again for every write)."""
    rows = ", ".join(
        "(" + ", ".join(f"%({column}_{index})s" for column in columns) + ")" for index in range(count)
    )
    moved = ", ".join(f"{column} = %(head_{column})s" for column in head)
    return (
        f"WITH appended AS (INSERT INTO {t.events.name} ({', '.join(columns)}) VALUES {rows}) "
        f"UPDATE {t.chain_head.name} SET {moved} WHERE id = 1 AND seq = %(prev_seq)s"
    )


def _head_query(backend: str) -> sa.Select[Any]:
    """The chain head, the event that switched signing on (its number and payload) and, on PostgreSQL, who is
    logged in (``session_user``), in one query."""
    h, e = t.chain_head.c, t.events.c
    first = sa.select(sa.func.min(e.seq)).where(e.kind == chain.SIGNING_KIND).scalar_subquery()
    role = [sa.func.session_user().label("role")] if backend == "postgresql" else []
    return (
        sa.select(h.seq, h.hash, e.seq.label("since"), e.payload, *role)
        .select_from(t.chain_head.outerjoin(t.events, e.seq == first))
        .where(h.id == 1)
    )


class Register:
    """A model register in a SQLite file or a PostgreSQL database.

    Opening checks that the database is a register (a foreign or damaged one raises
    ``CorruptRegisterError`` and is not touched) and applies any pending migration. ``workspace_root`` is
    where relative paths point (``for_workspace`` sets it); ``create=False`` refuses to create a new SQLite
    file; ``hmac_key`` (default: ``GOVERNANCE_REGISTER_HMAC_KEY``) signs every new event; without one, an Ed25519
    private key file (``GOVERNANCE_REGISTER_ED25519_KEY``) signs, and a public key file
    (``GOVERNANCE_REGISTER_ED25519_PUBLIC_KEY``) lets ``verify`` check the signatures (see :func:`chain.signing_key`).
    """

    def __init__(
        self,
        url: str,
        *,
        hmac_key: bytes | None = None,
        workspace_root: Path | None = None,
        create: bool = True,
        _migrate_to: str = "head",
    ) -> None:
        self.url = url
        self.workspace_root = Path(workspace_root).resolve() if workspace_root is not None else None
        self.hmac_key = (hmac_key if hmac_key is not None else chain.key_from_environment()) or None
        self._ed25519 = chain.signing_key(None)  # an Ed25519 key file named in the environment, if any
        self._hmac: chain.HmacKey | None = None
        self._parsed_url = database.parse_url(url)
        self._before_signing = _migrate_to != "head"  # a test's older schema: write as that release did
        self.engine = database.open_engine(url, migrate_to=_migrate_to, create=create)
        self._transactions: weakref.WeakKeyDictionary[Connection, _Transaction] = weakref.WeakKeyDictionary()
        self._held = database.HeldConnection()  # the connection writes reuse
        self._opened_by = os.getpid()  # a forked child closes none of its parent's connections
        self._head_sql: str | None = None  # _head_query as SQL text, for the write lock's first exchange

    @classmethod
    def for_workspace(
        cls,
        workspace: Workspace,
        url: str | None = None,
        *,
        hmac_key: bytes | None = None,
        create: bool = True,
    ) -> Register:
        """The workspace's register: ``url``, else ``GOVERNANCE_REGISTER_URL``, the config, or ``.governance/register.db``."""
        return cls(
            url or workspace.register_url, hmac_key=hmac_key, workspace_root=workspace.root, create=create
        )

    @property
    def location(self) -> str:
        """Where the register is (a file path, or the URL without its password)."""
        return database.describe(self._parsed_url)

    def close(self) -> None:
        """Release the database connections."""
        self._held.release()
        self.engine.dispose(close=self._opened_by == os.getpid())

    def __enter__(self) -> Register:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ paths

    def relative_path(self, path: str | Path) -> str:
        """How a file is stored: relative to the workspace when inside it, else absolute (POSIX form)."""
        resolved = Path(path).resolve()
        if self.workspace_root is not None and (
            resolved == self.workspace_root or self.workspace_root in resolved.parents
        ):
            return resolved.relative_to(self.workspace_root).as_posix()
        return resolved.as_posix()

    def locate(self, stored_path: str, workspace_root: Path | None = None) -> Path:
        """The file a path points at: relative paths (stored or given) are under the workspace, else the current folder."""
        path = Path(stored_path)
        if path.is_absolute():
            return path
        root = workspace_root or self.workspace_root or Path.cwd()
        return Path(root) / path

    # ------------------------------------------------------------------ writes

    def add_model(
        self, name: str, description: ModelDescription | None = None, *, actor: str, **fields: Any
    ) -> records.ModelRecord:
        """Register a model (no artefact yet: versions carry those); it needs an owner and a purpose.

        The description is a :class:`ModelDescription`, or its fields as keywords (``owner=...``, ``purpose=...``).
        A name that prints like a registered one is refused (see :mod:`.names`).
        """
        from governance.register.names import lookalike_keys, refuse_invisible

        name = lifecycle.check_model_name(name)
        refuse_invisible(name)
        keys = lookalike_keys(name)  # before the write lock: the first call reads Unicode's confusables data
        values = _description_values(description, fields)
        values["owner"] = _required(
            values["owner"], "owner", "who is accountable for the model, e.g. ana@example.com"
        )
        values["purpose"] = _required(values["purpose"], "purpose", "what the model decides, in one sentence")
        change = Change(lifecycle.checked_actor(actor), "model.registered", name)
        with self._writing() as conn:
            if conn.execute(sa.select(t.models.c.id).where(t.models.c.name == name)).first() is not None:
                raise RegisterError(
                    f"A model named {name!r} is already registered; add a version to it with {{add_version}}, or "
                    "choose another name.",
                    **advice("add_version", model=name, version="V"),
                )
            _refuse_lookalike(conn, name, keys)
            created = {"created_at": change.at, "created_by": change.actor}
            row = self._add_row(conn, t.models, {"name": name, **values, **created}, change)
        return queries.model_record(row)

    def update_model(
        self, name: str, description: ModelDescription | None = None, *, actor: str, **fields: Any
    ) -> records.ModelRecord:
        """Change a model's description or its human answers; a field left ``None`` stays as it is.

        The description is a :class:`ModelDescription`, or its fields as keywords. The event records each change
        (old and new value), so the history shows who answered what, when.
        """
        actor = lifecycle.checked_actor(actor)
        wanted = _description_values(description, fields)
        at = _now()
        with self._writing() as conn:
            row = self._model_row(conn, name)
            changes = {
                field: {"from": getattr(row, field), "to": value}
                for field, value in wanted.items()
                if value is not None and value != getattr(row, field)
            }
            if not changes:
                return queries.model_record(row)
            seq = self._next_seq(conn)
            _check_lengths(t.models, {field: change["to"] for field, change in changes.items()})
            conn.execute(
                sa.update(t.models)
                .where(t.models.c.id == row.id)
                .values(event_seq=seq, **{field: change["to"] for field, change in changes.items()})
            )
            updated = self._row(conn, t.models, row.id)
            change = Change(actor, "model.updated", row.name, at=at)
            self._append(conn, seq, change, [(t.models, updated)], {"changes": changes})
            return queries.model_record(updated)

    def add_version(
        self,
        model_name: str,
        version: str,
        *,
        artifact_path: str | Path,
        actor: str,
        framework: str | None = None,
        features: Iterable[str] | None = None,
        training_data_description: str | None = None,
        training_data_sha256: str | None = None,
        trust_sha256: str | None = None,
        lineage: dict[str, Any] | None = None,
    ) -> records.VersionRecord:
        """Register a version: hash its artefact; the same artefact again is a no-op, a different one refused.

        ``artifact_path`` is absolute or relative to the workspace; it is stored relative to the workspace when
        it lies inside it, so the register still points at the file after the workspace is moved or cloned.
        A file that can run code when loaded (a pickle, a skops file with types beyond the safe list) is refused
        unless ``trust_sha256`` is its SHA-256: the actor vouches for it, in a ``version.vouched`` event of its
        own, and audits name them. The same file again with ``trust_sha256`` adds a vouching it lacked.
        A ``models:/NAME/VERSION`` (or ``@ALIAS``) URI registers a version of an MLflow registry: its fixed URI is
        stored, with the run id in ``source``, and the SHA-256 of its model file is pinned.
        ``lineage`` (a mitigated candidate: ``mitigated_from``, method, constraint, parameters, seed) is kept in
        ``source`` and so in the hash-chained ``version.registered`` event.
        """
        from governance.intake import model_files

        version = lifecycle.check_version_label(version)
        actor = lifecycle.checked_actor(actor)
        check, stored_path, label, source = self._inspect_artefact(
            artifact_path,
            before_inspecting=lambda sha256, name: self._refuse_early(
                model_name, version, sha256, name, trust_sha256
            ),
        )
        model_files.check_trust(label, check.sha256, trust_sha256)
        sha256 = check.sha256
        if lineage is not None:
            source = {**(source or {}), "lineage": lineage}
        if source is not None:
            framework = framework or source.pop("framework", None)
            found_features = source.pop("features", None)
            features = features if features is not None else found_features
        feature_list = [str(feature) for feature in features] if features is not None else None
        at = _now()
        with self._writing() as conn:
            model = self._model_row(conn, model_name)
            existing = self._existing_version(conn, model, model_name, version, sha256)
            if existing is not None:
                if (
                    check.needs_vouching
                    and trust_sha256
                    and self._vouching_event(conn, model.name, existing) is None
                ):
                    self._vouch(
                        conn, check, model.name, version, actor=actor, artifact=existing.artifact_path
                    )
                return self._version_record(conn, existing, model.name)
            check.require_vouching(label, trust_sha256)
            change = Change(actor, "version.registered", model.name, version, at)
            row = self._add_row(
                conn,
                t.versions,
                {
                    "model_id": model.id,
                    "version": version,
                    "artifact_path": stored_path,
                    "sha256": sha256,
                    "framework": _optional(framework),
                    "features": feature_list,
                    "training_data_description": _optional(training_data_description),
                    "training_data_sha256": _optional(training_data_sha256),
                    "state": "draft",
                    "created_at": at,
                    "created_by": actor,
                    "source": source,
                },
                change,
                extra={"state": {"from": None, "to": "draft"}},
            )
            if check.needs_vouching:
                self._vouch(conn, check, model.name, version, actor=actor, artifact=stored_path)
            return self._version_record(conn, row, model.name)

    def _existing_version(
        self, conn: Connection, model: Row[Any], model_name: str, version: str, sha256: str
    ) -> Row[Any] | None:
        """The version already registered with this very file (registering it again changes nothing), or
        ``None`` when it is new; refuses another file under its label, and this file under another label."""
        existing = conn.execute(
            sa.select(t.versions).where(t.versions.c.model_id == model.id, t.versions.c.version == version)
        ).first()
        if existing is not None:
            if existing.sha256 == sha256:
                return existing
            raise GuardError(
                f"Guard 'a new artefact is a new version' refused {model_name}@{version}: that version is "
                f"registered with another artefact (SHA-256 {existing.sha256[:12]}…, this file is "
                f"{sha256[:12]}…); register the new file under a new version number."
            )
        same_file = conn.execute(
            sa.select(t.versions.c.version).where(
                t.versions.c.model_id == model.id, t.versions.c.sha256 == sha256
            )
        ).first()
        if same_file is not None:
            raise RegisterError(
                f"This artefact is already registered as {model_name}@{same_file.version}; use that version "
                "instead of registering the same file twice."
            )
        return None

    def _inspect_artefact(
        self, artifact_path: str | Path, *, before_inspecting: Callable[[str, str], None] | None = None
    ) -> tuple[ModelFileCheck, str, str, dict[str, Any] | None]:
        """What the artefact is (without loading it), how it is stored, its name in messages, its MLflow source.

        ``before_inspecting`` gets a local file's SHA-256 and name before the inspection, which can take
        seconds (skops imports scikit-learn): what it refuses is refused at once."""
        from governance.intake import mlflow_models, model_files

        if mlflow_models.is_mlflow_uri(artifact_path):
            check, found, tracking = mlflow_models.check_mlflow_model(str(artifact_path))
            source = found.origin(tracking)
            source["framework"] = f"scikit-learn {found.sklearn_version}" if found.sklearn_version else None
            source["features"] = found.features
            return check, found.uri, f"{found.uri} ({found.model_file})", source
        artifact = self.locate(str(artifact_path))
        if not artifact.is_file():
            raise FieldError(
                "artifact_path",
                f"The model file {artifact} does not exist; check the path given as {{field}}.",
            )
        sha256 = provenance.sha256_file(artifact)
        if before_inspecting is not None:
            before_inspecting(sha256, artifact.name)
        check = model_files.check_model_file(artifact, sha256=sha256)
        return check, self.relative_path(artifact), artifact.name, None

    def _refuse_early(
        self, model_name: str, version: str, sha256: str, name: str, trust_sha256: str | None
    ) -> None:
        """Refuse a wrong ``--trust`` hash, an unknown model, and a file the register refuses, from a read."""
        from governance.intake import model_files

        model_files.check_trust(name, sha256, trust_sha256)
        with database.read_transaction(self.engine) as conn:
            self._existing_version(conn, self._model_row(conn, model_name), model_name, version, sha256)

    def _vouch(
        self,
        conn: Connection,
        check: ModelFileCheck,
        model_name: str,
        version: str,
        *,
        actor: str,
        artifact: str,
    ) -> None:
        """Append the ``version.vouched`` event: ``actor`` says this file may run code when audits load it."""
        self._append(
            conn,
            self._next_seq(conn),
            Change(actor, queries.VOUCHED, model_name, version),
            [],
            {
                "sha256": check.sha256,
                "file_kind": check.kind,
                "untrusted_types": list(check.untrusted_types),
                "artifact_path": artifact,
            },
        )

    def _vouching_event(self, conn: Connection, model_name: str, row: Row[Any]) -> Any:
        """The newest ``version.vouched`` event for this version's file (seq, at, actor, ...), or ``None``."""
        return queries.vouchings(conn, [model_name]).get((model_name, row.version, row.sha256))

    def record_audit(
        self,
        model_name: str,
        version: str,
        *,
        audit_id: str,
        audit_json_path: str | Path,
        verdict: str,
        policy_name: str,
        policy_sha256: str,
        data_sha256: str,
        artifact_sha256: str,
        tool_versions: dict[str, str],
        actor: str,
        max_age_days: int | None,
        override: dict[str, Any] | None = None,
        from_predictions: bool = False,
    ) -> records.AuditRecord:
        """Record an audit of a version; every file of its folder is hashed now so that ``verify`` can detect edits.

        ``audit_json_path`` is absolute or relative to the workspace. ``artifact_sha256`` must be the version's
        pinned hash (the file that was audited); ``max_age_days`` is the policy's maximum audit age. ``override``
        (``{"reason": ..., "departures": [...]}``) marks an audit run against the model's pinned audit
        specification; it is kept in the event, and approval then needs a risk acceptance. ``from_predictions``
        marks an audit of saved predictions, which cannot show that they came from the registered file: approval
        then needs a risk acceptance too.
        """
        actor = lifecycle.checked_actor(actor)
        if verdict not in VERDICTS:
            raise InputError(f"The verdict {verdict!r} is not one of {', '.join(VERDICTS)}.")
        if max_age_days is not None and (isinstance(max_age_days, bool) or int(max_age_days) < 1):
            raise InputError(
                f"The maximum audit age must be a whole number of days of at least 1, not {max_age_days!r}."
            )
        audit_id = _required(audit_id, "audit_id", "the audit's identifier")
        audit_file = self.locate(str(audit_json_path))
        if not audit_file.is_file():
            raise InputError(
                f"The audit file {audit_file} does not exist; record the audit after writing audit.json."
            )
        files = manifest.take(audit_file, self.workspace_root)
        file_sha256 = files.get(audit_file.name) or provenance.sha256_file(audit_file)
        at = _now()
        with self._writing() as conn:
            row = self._version_row(conn, model_name, version)
            lifecycle.refuse_if_retired(row.state, f"{model_name}@{version}", "record an audit of")
            lifecycle.check_audit_artefact(f"{model_name}@{version}", artifact_sha256, row.sha256)
            if (
                conn.execute(sa.select(t.audits.c.id).where(t.audits.c.audit_id == audit_id)).first()
                is not None
            ):
                raise RegisterError(
                    f"An audit with the id {audit_id!r} is already recorded; each audit needs its own id."
                )
            extra: dict[str, Any] = {}
            if override is not None:
                extra["override"] = _override(override)
            if from_predictions:
                extra["from_predictions"] = True
            audit_row = self._add_row(
                conn,
                t.audits,
                {
                    "version_id": row.id,
                    "audit_id": audit_id,
                    "audit_json_path": self.relative_path(audit_file),
                    "audit_json_sha256": file_sha256,
                    "files": files,
                    "verdict": verdict,
                    "policy_name": policy_name,
                    "policy_sha256": policy_sha256,
                    "data_sha256": data_sha256,
                    "artifact_sha256": artifact_sha256,
                    "tool_versions": {str(k): str(v) for k, v in (tool_versions or {}).items()},
                    "max_age_days": int(max_age_days) if max_age_days is not None else None,
                    "actor": actor,
                    "recorded_at": at,
                },
                Change(actor, "audit.recorded", model_name, version, at),
                extra=extra,
                moves=(row, lifecycle.state_after_audit(row.state)),
            )
            return self._audit_record(conn, audit_row)

    def approve(
        self,
        model_name: str,
        version: str,
        *,
        role: str,
        actor: str,
        comment: str | None = None,
        decision: str = "approve",
        risk_acceptance: str | None = None,
    ) -> records.ApprovalRecord:
        """Sign off a version (or reject it), subject to the approval guards in :mod:`lifecycle`."""
        actor = lifecycle.checked_actor(actor)
        role = _required(role, "role", "the role you sign as, e.g. risk-officer")
        if decision not in ("approve", "reject"):
            raise InputError(f"The decision {decision!r} is not 'approve' or 'reject'.")
        if risk_acceptance is not None:
            risk_acceptance = _required(risk_acceptance, "risk_acceptance", "the reason the risk is accepted")
        at = _now()
        label = f"{model_name}@{version}"
        with self._writing() as conn:
            row = self._version_row(conn, model_name, version)
            lifecycle.refuse_if_retired(row.state, label, "approve" if decision == "approve" else "reject")
            reviewed = self._audits_of_artefact(conn, row)
            latest = reviewed[-1] if reviewed else None
            audit_actor = latest.actor if latest is not None else None
            extra: dict[str, Any] = {}
            if decision == "approve":
                lifecycle.check_approval(
                    label=label,
                    state=row.state,
                    audits=reviewed,
                    creator=row.created_by,
                    approver=actor,
                    risk_acceptance=risk_acceptance,
                    now=provenance.now(),
                )
                accepted = [a for a in reviewed if a.needs_acceptance]
                if accepted:  # the audits the risk acceptance stands in for, on the record
                    extra["accepted_audits"] = [
                        {"audit_id": a.audit_id, "verdict": a.verdict, "override": a.override}
                        for a in accepted
                    ]
                if compares_identities(conn):  # separation of duties on who logged in, not on typed names
                    lifecycle.check_identities(
                        label=label,
                        approver=database.session_identity(conn),
                        audit=latest,
                        creator=self._event_identity(conn, row.event_seq),
                    )
            approval_row = self._add_row(
                conn,
                t.approvals,
                {
                    "version_id": row.id,
                    "role": role,
                    "decision": decision,
                    "comment": _optional(comment),
                    "risk_acceptance": risk_acceptance,
                    "audit_id": latest.audit_id if latest is not None else None,
                    "actor": actor,
                    "at": at,
                    "chosen_from": mitigation.chosen_from(conn, row) if decision == "approve" else None,
                },
                Change(actor, "approval.recorded", model_name, version, at),
                extra={"audit_actor": audit_actor, **extra},
                moves=(row, lifecycle.state_after_decision(row.state, decision)),
            )
            return self._approval_record(conn, approval_row)

    def deploy(
        self, model_name: str, version: str, *, actor: str, reason: str | None = None
    ) -> records.VersionRecord:
        """Mark a version as in use; only an approved version can be deployed."""
        return self._transition(model_name, version, "deploy", actor=actor, reason=reason)

    def suspend(
        self, model_name: str, version: str, *, actor: str, reason: str | None = None
    ) -> records.VersionRecord:
        """Take a version out of use until it is approved again."""
        return self._transition(model_name, version, "suspend", actor=actor, reason=reason)

    def retire(
        self, model_name: str, version: str, *, actor: str, reason: str | None = None
    ) -> records.VersionRecord:
        """Retire a version for good (final: nothing can change it afterwards)."""
        return self._transition(model_name, version, "retire", actor=actor, reason=reason)

    def _transition(
        self, model_name: str, version: str, action: str, *, actor: str, reason: str | None
    ) -> records.VersionRecord:
        actor = lifecycle.checked_actor(actor)
        at = _now()
        with self._writing() as conn:
            row = self._version_row(conn, model_name, version)
            new_state = lifecycle.check_transition(row.state, action, f"{model_name}@{version}")
            seq = self._next_seq(conn)
            version_row = self._set_state(conn, row, new_state)
            change = Change(actor, f"version.{lifecycle.PAST[action]}", model_name, version, at)
            extra = {"state": {"from": row.state, "to": new_state}, "reason": _optional(reason)}
            self._append(conn, seq, change, [(t.versions, version_row)], extra)
            return self._version_record(conn, version_row, model_name)

    def record_checklist_answer(
        self, model_name: str, *, framework: str, item_id: str, status: str, evidence: str, actor: str
    ) -> records.ChecklistAnswerRecord:
        """Record a human answer to a checklist item; the newest answer per (framework, item) counts."""
        answer = {"framework": framework, "item_id": item_id, "status": status, "evidence": evidence}
        return self.record_checklist_answers(model_name, [answer], actor=actor)[0]

    def record_checklist_answers(
        self, model_name: str, answers: Iterable[Mapping[str, str]], *, actor: str
    ) -> list[records.ChecklistAnswerRecord]:
        """Record several answers (``framework``, ``item_id``, ``status``, ``evidence`` each) in one transaction:
        one event per answer, as one at a time would write, but a single commit, and all or none of them."""
        actor = lifecycle.checked_actor(actor)
        checked = _checked_answers(answers)  # before the write lock: a refused answer does not hold it
        try:
            return self._record_answers(model_name, checked, actor)
        except database.StatementsLost:  # nothing was written: once more, the statements prepared again
            return self._record_answers(model_name, checked, actor)

    def _record_answers(
        self, model_name: str, checked: list[Answer], actor: str
    ) -> list[records.ChecklistAnswerRecord]:
        """:meth:`record_checklist_answers` of answers checked already."""
        at = _now()
        with self._writing(self._reserving(model_name, len(checked))) as conn:
            if not checked:
                self._model_row(conn, model_name)  # an unknown model is still refused
                return []
            first = self._next_seq(conn)
            values = [(*answer, actor, at, seq) for seq, answer in enumerate(checked, start=first)]
            _check_lengths(t.checklist_answers, dict(zip(_ANSWER_COLUMNS, values[0], strict=True)))
            reserved = self._written(conn).reserved
            rows = (
                _insert_answers(conn, model_name, values) if reserved is None else _reserved(reserved, values)
            )
            if not rows:
                self._model_row(conn, model_name)  # raises: no such model
            texts = _answer_texts(values, rows)  # each event carries its answer's row alone
            along = None
            if reserved is not None:  # the rows go with their events, and COMMIT
                along = (_answers_after_head_sql(len(values)), _answer_parameters(values, rows))
            images = _answer_images(values, rows, model_name)
            recorded = _ANSWER_RECORDS.validate_python(images)  # in one call: quicker than one at a time
            change = Change(actor, "checklist.answered", model_name, at=at)
            self._append_payloads(conn, first, [(change, texts)], along)
            return recorded

    def _reserving(self, model_name: str, count: int) -> tuple[str, list[Any]] | None:
        """PostgreSQL: the write lock's first exchange for ``count`` answers (:func:`_reserving_sql`), unless
        there are too many to write in one statement with their events."""
        if self.engine.dialect.name != "postgresql" or not 0 < count <= _EVENTS_WITH_HEAD:
            return None
        if count == 1:
            return _reserving_sql(self._head_text(), True), [model_name]
        return _reserving_sql(self._head_text(), False), [model_name, count]

    def record_incident(
        self, model_name: str, version: str, *, title: str, description: str, severity: str, actor: str
    ) -> records.IncidentRecord:
        """Record an incident with a version (it does not change the version's state: suspend it for that)."""
        actor = lifecycle.checked_actor(actor)
        if severity not in SEVERITIES:
            raise InputError(f"The severity {severity!r} is not one of {', '.join(SEVERITIES)}.")
        title = _required(title, "title", "a short title")
        change = Change(actor, "incident.recorded", model_name, version)
        with self._writing() as conn:
            row = self._version_row(conn, model_name, version)
            incident_row = self._add_row(
                conn,
                t.incidents,
                {
                    "version_id": row.id,
                    "title": title,
                    "description": description or "",
                    "severity": severity,
                    "actor": actor,
                    "at": change.at,
                },
                change,
            )
            return queries.incident_record(incident_row, model_name, version)

    def enable_signing(self, *, actor: str) -> int | None:
        """Switch signing on with this register's key (recorded as an event); the event that says it is on.

        From that event on, every change needs the key and ``verify`` without it cannot vouch for the history.
        Returns the event number, or ``None`` when signing was already on.
        """
        actor = lifecycle.checked_actor(actor)
        if self._signer is None:
            raise RegisterError(
                f"Set {chain.HMAC_ENV} to the register's secret key (or {chain.ED25519_KEY_ENV} to an Ed25519 private "
                "key file) first, then switch signing on."
            )
        with self._writing() as conn:
            if not self._ensure_signing(conn, actor=actor):
                return None
            since = signing_record(conn)
            return since[0] if since is not None else None

    def require_roles(self, *, actor: str) -> int | None:
        """Make separation of duties compare who logged in, for good (recorded as an event; no command undoes it).

        On PostgreSQL roles are compared by default; this also rules out a later ``allow_shared_role``. On SQLite
        it makes the guards compare operating-system users. Returns the event number, or ``None`` when it was
        already required. Refused on PostgreSQL once a shared role was allowed (that is final too).
        """
        actor = lifecycle.checked_actor(actor)
        with self._writing() as conn:
            if roles_record(conn) is not None:
                return None
            shared = shared_role_record(conn)
            if shared is not None:
                raise RegisterError(
                    f"This register allowed one shared database role at event {shared[0]}, which is final, so it "
                    f"cannot require separate roles now; give each person their own role and start a new register "
                    f"(see {roles.GUIDE})."
                )
            return self._append_setting(conn, self._next_seq(conn), actor, chain.ROLES_KIND)

    def allow_shared_role(self, *, actor: str, reason: str) -> int | None:
        """Record, for good, that the people of this PostgreSQL register share one database role.

        Separation of duties then compares the typed ``--actor`` names only; ``verify``, ``register show`` and
        the site warn about it from then on. Returns the event number, or ``None`` when it was already allowed.
        Refused on SQLite (nothing to allow) and after ``require_roles`` (final).
        """
        actor = lifecycle.checked_actor(actor)
        reason = _required(reason, "reason", "why the team cannot have one database role per person")
        if self.engine.dialect.name != "postgresql":
            raise RegisterError(
                "A SQLite register compares only the typed {actor} names unless {require_roles} was run, so there "
                "is no shared database role to allow.",
                fields=["actor"],
                **advice("require_roles"),
            )
        with self._writing() as conn:
            if shared_role_record(conn) is not None:
                return None
            roles.refuse_unless_owner(conn, "allow a shared database role")
            required = roles_record(conn)
            if required is not None:
                raise RegisterError(
                    f"This register requires one database role per person since event {required}, which is final; "
                    f"connect as your own database role instead (see {roles.GUIDE})."
                )
            seq = self._next_seq(conn)
            return self._append_setting(conn, seq, actor, roles.SHARED_ROLE_KIND, {"reason": reason})

    def role_warnings(self) -> list[str]:
        """What every view of the register must say about who is acting (a shared role was allowed), if anything."""
        with database.read_transaction(self.engine) as conn:
            found = _first_event(conn, roles.SHARED_ROLE_KIND)
        if found is None:
            return []
        return [
            roles.shared_role_warning(
                found.seq, found.actor, found.at, _payload_object(found.payload), found.identity
            )
        ]

    def grant_sql(self, role_names: Iterable[str]) -> str:
        """The SQL an administrator runs to let each named database role use this PostgreSQL register."""
        names = [roles.check_role_name(name) for name in role_names]
        if self.engine.dialect.name != "postgresql":
            raise RegisterError(
                "This register is a SQLite file, which has no database roles; give people their own roles by moving "
                f"the register to PostgreSQL (see {roles.GUIDE})."
            )
        with database.read_transaction(self.engine) as conn:
            schema = str(
                roles.about_tables(conn, "n.nspname", "JOIN pg_namespace n ON n.oid = c.relnamespace")[0]
            )
            present = roles.present_relations(conn, schema)
        return roles.grant_script(names, schema, present)

    def check_can_sign(self) -> None:
        """Refuse now, before long work such as an audit, if a change would be refused: the register is signed and
        this writer has no key or another key."""
        with database.read_transaction(self.engine) as conn:
            since = signing_record(conn)
        if since is not None:
            self._refuse_wrong_key(since)

    def chain_head(self) -> tuple[int, str]:
        """The newest event's number and hash: what to keep outside the database (``verify --expect-head``)."""
        with database.read_transaction(self.engine) as conn:
            head = conn.execute(sa.select(t.chain_head).where(t.chain_head.c.id == 1)).one()
        return int(head.seq), str(head.hash)

    # ------------------------------------------------------------------ reads

    def resolve_version(self, model_name: str, version: str) -> records.VersionRecord:
        """A registered version (its artefact path, pinned SHA-256 and state); ``NotFoundError`` if absent."""
        with database.read_transaction(self.engine) as conn:
            return self._version_record(conn, self._version_row(conn, model_name, version))

    def vouching(self, model_name: str, version: str) -> Vouching | None:
        """Who vouched that the version's model file may run code when loaded, and when (``None``: nobody)."""
        from governance.intake.model_files import Vouching

        record = self.resolve_version(model_name, version)
        if record.vouched_by is None:
            return None
        return Vouching(sha256=record.sha256, actor=record.vouched_by, at=record.vouched_at)

    def approval_review(self, model_name: str, version: str) -> list[lifecycle.AuditFacts]:
        """Every audit of the version's exact model file, oldest first: what approval weighs.

        A failed, inconclusive or overridden audit among them needs a risk acceptance, however many audits follow.
        """
        with database.read_transaction(self.engine) as conn:
            return self._audits_of_artefact(conn, self._version_row(conn, model_name, version))

    def get_model(self, model_name: str) -> records.ModelRecord:
        """A registered model; ``NotFoundError`` if absent."""
        with database.read_transaction(self.engine) as conn:
            return queries.model_record(self._model_row(conn, model_name))

    def checklist_answers(self, model_name: str) -> list[records.ChecklistAnswerRecord]:
        """The newest answer per (framework, item) for a model, sorted by framework and item."""
        with database.read_transaction(self.engine) as conn:
            model = self._model_row(conn, model_name)
            rows = conn.execute(
                sa.select(t.checklist_answers)
                .where(t.checklist_answers.c.model_id == model.id)
                .order_by(t.checklist_answers.c.id)
            ).all()
        return newest_answers((queries.checklist_record(row, model.name) for row in rows), dict)

    def list_models(self) -> list[records.ModelSummary]:
        """One summary per model, sorted by name."""
        return [queries.summary(detail) for detail in self.details(with_events=False)]

    def details(self, *, with_events: bool = True) -> list[records.ModelDetail]:
        """Every model with its versions, audits, approvals, incidents, answers (and events), sorted by name."""
        with database.read_transaction(self.engine) as conn:
            models = conn.execute(sa.select(t.models).order_by(t.models.c.name)).all()
            return queries.load_details(conn, models, with_events=with_events)

    def overviews(self, *, within_days: int = 30) -> list[ModelOverview]:
        """Where every model stands, deployed version first, with the status items about it (sorted by name)."""
        from governance.register.checks import status
        from governance.register.overview import overview

        details = self.details(with_events=True)
        attention = status(self, within_days=within_days, details=details).items
        return [overview(detail, detail.events, attention) for detail in details]

    def overview(self, model_name: str, *, within_days: int = 30) -> ModelOverview:
        """Where one model stands (see :mod:`governance.register.overview`)."""
        from governance.register.overview import overview

        detail = self.show(model_name)
        return overview(detail, detail.events, self.status(within_days=within_days).items)

    def show(self, model_name: str) -> records.ModelDetail:
        """Everything about one model, with its events in order."""
        with database.read_transaction(self.engine) as conn:
            return queries.load_details(conn, [self._model_row(conn, model_name)])[0]

    def history(self, model_name: str | None = None) -> list[records.EventRecord]:
        """The event log in order, for one model or the whole register."""
        with database.read_transaction(self.engine) as conn:
            query = sa.select(t.events).order_by(t.events.c.seq)
            if model_name is not None:
                model = self._model_row(conn, model_name)
                query = query.where(t.events.c.model_name == model.name)
            return [queries.event_record(row) for row in conn.execute(query)]

    def export(
        self, *, event_view: Callable[[records.EventRecord], records.EventRecord] | None = None
    ) -> dict[str, Any]:
        """One JSON-able document for an auditor: every model with its history, the log, and a verification.

        ``event_view`` trims each event as it is read, in batches (the site keeps only what its pages show), so
        that a reader who needs less never holds every event's whole payload at once.
        """
        view = event_view or (lambda event: event)
        with database.read_transaction(self.engine) as conn:
            models = conn.execute(sa.select(t.models).order_by(t.models.c.name)).all()
            details = queries.load_details(conn, models, with_events=False)
            head = conn.execute(sa.select(t.chain_head).where(t.chain_head.c.id == 1)).one()
            query = sa.select(t.events).order_by(t.events.c.seq)
            events = [
                view(queries.event_record(row))
                for row in conn.execute(query.execution_options(stream_results=True, yield_per=500))
            ]
        from governance.register.checks import AuditFiles, status
        from governance.register.overview import overview

        files = AuditFiles(self, None)  # every audit's files hashed once, for verify and status alike
        report = self.verify(audit_files=files)
        attention = status(self, details=details, audit_files=files).items
        by_model: dict[str, list[records.EventRecord]] = {}
        for event in events:
            by_model.setdefault(str(event.model_name), []).append(event)
        overviews = [overview(detail, by_model.get(detail.model.name, []), attention) for detail in details]
        del by_model
        return {
            "format": EXPORT_FORMAT,
            "format_version": EXPORT_FORMAT_VERSION,
            "exported_at": _now(),
            "register": self.location,
            "chain_head": {"seq": head.seq, "hash": head.hash, "hmac": head.hmac},
            "models": _dumped(details, exclude={"events"}),
            "overviews": _dumped(overviews),
            "events": _dumped(events),
            "verification": report.model_dump(mode="json"),
        }

    def export_in_batches(
        self,
        *,
        event_view: Callable[[records.EventRecord], records.EventRecord] | None = None,
        batch: int = EXPORT_BATCH,
    ) -> tuple[dict[str, Any], Iterator[dict[str, Any]]]:
        """:meth:`export` read ``batch`` models at a time: the head and verification, then each batch's models,
        overviews and their events (the same fields as the export's, by model; events that name no model are
        left out), the batches from one snapshot of the register taken after the head was read.

        A reader that packs each batch before asking for the next (the site) never holds every model's rows and
        events at once; each batch takes the same few queries, whatever its models' versions and events.
        """
        from governance.register.checks import AuditFiles, orphan_items

        files = AuditFiles(self, None)  # every audit's files hashed once, for verify and status alike
        report = self.verify(audit_files=files)
        orphans = orphan_items(self)
        with database.read_transaction(self.engine) as conn:
            head = conn.execute(sa.select(t.chain_head).where(t.chain_head.c.id == 1)).one()
            models = list(conn.execute(sa.select(t.models).order_by(t.models.c.name)).all())
        header = {
            "format": EXPORT_FORMAT,
            "format_version": EXPORT_FORMAT_VERSION,
            "exported_at": _now(),
            "register": self.location,
            "chain_head": {"seq": head.seq, "hash": head.hash, "hmac": head.hmac},
            "verification": report.model_dump(mode="json"),
        }
        return header, self._batches(models, batch, _BatchRead(event_view, files, orphans))

    def _batches(self, models: list[Row[Any]], size: int, read: _BatchRead) -> Iterator[dict[str, Any]]:
        """Each batch of :meth:`export_in_batches`, read when the reader asks for it."""
        from governance.register.checks import status
        from governance.register.overview import overview

        with database.read_transaction(self.engine) as conn:
            for start in range(0, len(models), size):
                details = queries.load_details(conn, models[start : start + size], event_view=read.view)
                names = {detail.model.name for detail in details}
                attention = status(self, details=details, audit_files=read.files, orphans=False).items
                attention += [item for item in read.orphans if item.model_name in names]
                attention.sort(key=lambda item: (_STATUS_ORDER[item.category], item.model_name, item.version))
                overviews = [overview(detail, detail.events, attention) for detail in details]
                events = [event for detail in details for event in detail.events]
                yield {
                    "models": _dumped(details, exclude={"events"}),
                    "overviews": _dumped(overviews),
                    "events": _dumped(events),
                }

    def verify(
        self,
        workspace_root: Path | None = None,
        *,
        expect_head: str | None = None,
        use_checkpoint: bool = True,
        audit_files: AuditFiles | None = None,
    ) -> records.VerifyReport:
        """Recompute the chain, check its signatures, replay it against the tables, and re-hash the audit files.

        ``expect_head`` is a head hash kept outside the database; the workspace's checkpoint file
        (``register-head.json``) is checked too when it exists: each must be an event of the chain.
        """
        from governance.register.anchor import CHECKPOINT_NAME, parse_head
        from governance.register.checks import verify

        root = workspace_root or self.workspace_root
        checkpoint = Path(root) / CHECKPOINT_NAME if use_checkpoint and root is not None else None
        return verify(
            self,
            workspace_root,
            expect_head=parse_head(expect_head) if expect_head is not None else None,
            checkpoint=checkpoint if checkpoint is not None and checkpoint.is_file() else None,
            audit_files=audit_files,
        )

    def write_checkpoint(self, path: Path | None = None) -> tuple[Checkpoint, records.VerifyReport]:
        """Verify, then write the chain head to ``path`` (default: ``register-head.json`` in the workspace).

        A register that fails ``verify`` (or a signed one verified without its key) gets no checkpoint: anchoring
        a broken history would make it look vouched for.
        """
        from governance.register.anchor import CHECKPOINT_NAME, BrokenHistoryError, write_checkpoint

        if path is None:
            if self.workspace_root is None:
                raise InputError(
                    "Say where to write the checkpoint: this register was opened without a workspace."
                )
            path = self.workspace_root / CHECKPOINT_NAME
        report = self.verify()
        if report.first_break is not None:
            opening = "No checkpoint was written, because the register fails verify: "
            raise BrokenHistoryError(**report.first_break.refusing(opening))
        if report.inconclusive:
            raise RegisterError(
                f"No checkpoint was written: the register is signed and no key was given, so its signatures cannot "
                f"be checked; set {chain.HMAC_ENV} (or {chain.ED25519_PUBLIC_ENV}) and run the command again."
            )
        return write_checkpoint(Path(path), report.head_seq, report.head_hash), report

    def status(self, *, within_days: int = 30) -> records.StatusReport:
        """What needs attention: overdue or expiring audits, deployments without approval, changed files."""
        from governance.register.checks import status

        return status(self, within_days=within_days)

    def clean_orphans(self, *, delete: bool = False) -> list[Leftover]:
        """Audit folders under ``audits/`` the register does not know, left by audits that stopped before they were
        recorded; with ``delete`` they are removed (and only those removed are returned). See :mod:`.orphans`."""
        from governance.register.orphans import clean_orphans

        return clean_orphans(self, delete=delete)

    # ------------------------------------------------------------------ internals

    def _next_seq(self, conn: Connection) -> int:
        """The next event's number, once this writer may sign: a signed register refuses a writer without its
        key, and the first write with a key records that signing is on."""
        self._ensure_signing(conn, actor=None)
        return self._head_seq(conn) + 1

    def _ensure_signing(self, conn: Connection, *, actor: str | None) -> bool:
        """Refuse a writer whose key is missing or not the register's; record ``signing_enabled`` on the first
        write with a key. True when this call switched signing on."""
        since = self._read_head(conn)
        if since is not None:
            self._refuse_wrong_key(since)
            return False
        if self._signer is None:
            return False
        key = self._signer.setting()
        seq = self._append_setting(
            conn, self._head_seq(conn) + 1, actor or "governance", chain.SIGNING_KIND, key
        )
        self._written(conn).signing = (seq, key)
        return True

    @property
    def signing_key(self) -> chain.SigningKey | None:
        """The key this register signs or verifies with: the HMAC secret (``hmac_key``), else an Ed25519 key."""
        if not self.hmac_key:
            return self._ed25519
        if self._hmac is None or self._hmac.secret != self.hmac_key:
            self._hmac = chain.HmacKey(self.hmac_key)
        return self._hmac

    @property
    def _signer(self) -> chain.SigningKey | None:
        """The key new events are signed with (``None``: none given, or an Ed25519 public key, which cannot sign)."""
        key = self.signing_key
        return key if key is not None and key.can_sign else None

    def _head_seq(self, conn: Connection) -> int:
        head = self._written(conn).head
        assert head is not None  # read by _read_head earlier in this transaction
        return head[0]

    def _written(self, conn: Connection) -> _Transaction:
        """What this write transaction has read or written so far (the chain head, rows just inserted)."""
        found = self._transactions.get(conn)
        if found is None:
            found = self._transactions[conn] = _Transaction()
        return found

    def _read_head(self, conn: Connection) -> tuple[int, dict[str, Any]] | None:
        """The chain head and the event that switched signing on, as :func:`signing_record` returns it: read
        with the write lock (see :meth:`_writing`), else in one query now (the writer holds the lock, so the head
        stays as read until this transaction moves it)."""
        written = self._written(conn)
        if written.head is None or written.signing is False:
            found = conn.execute(_head_query(conn.dialect.name)).one()
            self._take_head(written, dict(found._mapping))
        assert not isinstance(written.signing, bool)
        return written.signing

    def _take_head(self, written: _Transaction, found: Mapping[str, Any]) -> None:
        written.head = (int(found["seq"]), str(found["hash"]))
        if found.get("role") is not None:
            written.identity = database.role_identity(str(found["role"]))
        since = found["since"]
        written.signing = None if since is None else (int(since), _payload_object(found["payload"]))

    def _head_text(self) -> str:
        """:func:`_head_query` as SQL text, compiled once."""
        if self._head_sql is None:
            dialect = self.engine.dialect
            query = _head_query(dialect.name)
            self._head_sql = str(query.compile(dialect=dialect, compile_kwargs={"literal_binds": True}))
        return self._head_sql

    @contextmanager
    def _writing(self, first: tuple[str, list[Any]] | None = None) -> Iterator[Connection]:
        """A write transaction (:func:`database.locked_write`) that reads the chain head, the signing state and
        who is logged in with the lock: on PostgreSQL in the same exchange with the server as BEGIN. ``first``:
        a query that reads the head and more (see :meth:`_reserving`), with its parameters."""
        sql, parameters = first if first is not None else (self._head_text(), None)
        with database.locked_write(self.engine, sql, parameters, self._held) as (conn, found):
            self._transactions.pop(conn, None)  # a held connection: what an earlier write learnt is stale
            if found is not None:
                written = self._written(conn)
                self._take_head(written, found)
                written.reserved = found if first is not None else None
            yield conn

    def _refuse_wrong_key(self, since: tuple[int, dict[str, Any]]) -> None:
        recorded_id = chain.recorded_key_id(since[1])
        signer = self._signer
        if signer is None and since[1].get("algorithm") == chain.ED25519:
            raise RegisterError(
                f"This register is signed with Ed25519 (since event {since[0]}), so every change must be signed too: "
                f"set {chain.ED25519_KEY_ENV} to its private key file (key id {recorded_id}) and run the command "
                "again."
            )
        if signer is None:
            raise RegisterError(
                f"This register is signed (since event {since[0]}), so every change must be signed too: set "
                f"{chain.HMAC_ENV} to its key (key id {recorded_id}) and run the command again."
            )
        if signer.id != recorded_id:
            raise RegisterError(
                f"The key in {signer.writer_env} (key id {signer.id}) is not the key this register "
                f"is signed with (key id {recorded_id}); set the register's key and run the command again."
            )

    def _insert(self, conn: Connection, table: sa.Table, values: dict[str, Any]) -> int:
        """Insert a row and keep it as the database returned it, for the ``_row`` that follows."""
        _check_lengths(table, values)
        row = conn.execute(table.insert().values(**values).returning(*table.c)).one()
        self._written(conn).inserted[(table.name, int(row.id))] = row
        return int(row.id)

    def _row(self, conn: Connection, table: sa.Table, row_id: int) -> Row[Any]:
        kept = self._written(conn).inserted.pop((table.name, row_id), None)
        if kept is not None:
            return kept
        return conn.execute(sa.select(table).where(table.c.id == row_id)).one()

    def _set_state(self, conn: Connection, row: Row[Any], state: str) -> Row[Any]:
        if state == row.state:
            return row
        return conn.execute(
            sa.update(t.versions)
            .where(t.versions.c.id == row.id)
            .values(state=state)
            .returning(*t.versions.c)
        ).one()

    def _add_row(
        self,
        conn: Connection,
        table: sa.Table,
        values: dict[str, Any],
        change: Change,
        *,
        extra: dict[str, Any] | None = None,
        moves: tuple[Row[Any], str] | None = None,
    ) -> Row[Any]:
        """Insert a row and append the event that carries it; ``moves`` (a version's row and its new state) also
        moves that version, in the same event. The inserted row, as the database returned it."""
        seq = self._next_seq(conn)
        row = self._row(conn, table, self._insert(conn, table, {**values, "event_seq": seq}))
        rows: Rows = [(table, row)]
        if moves is not None:
            version_row, state = moves
            rows.append((t.versions, self._set_state(conn, version_row, state)))
            extra = {"state": {"from": version_row.state, "to": state}, **(extra or {})}
        self._append(conn, seq, change, rows, extra)
        return row

    def _append(
        self, conn: Connection, seq: int, change: Change, rows: Rows, extra: dict[str, Any] | None = None
    ) -> None:
        """Append the event that carries the after-images of ``rows``, and move the chain head to it."""
        self._append_many(conn, seq, [(change, rows, extra)])

    def _append_setting(
        self, conn: Connection, seq: int, actor: str, kind: str, extra: dict[str, Any] | None = None
    ) -> int:
        """Append event ``seq`` that changes a setting of the whole register (no model, no rows); its number."""
        self._append(conn, seq, Change(actor, kind), [], extra)
        return seq

    def _append_many(
        self, conn: Connection, seq: int, events: list[tuple[Change, Rows, dict[str, Any] | None]]
    ) -> None:
        """Append events ``seq``, ``seq + 1``, ... (each as :meth:`_append` takes it) in one statement, and move
        the chain head once, to the last: each event's hash still covers the one before it."""
        texts = [(change, [_payload_text(rows, extra)]) for change, rows, extra in events]
        self._append_payloads(conn, seq, texts)

    def _append_payloads(
        self,
        conn: Connection,
        seq: int,
        events: EventRuns,
        along: tuple[str, list[Any]] | None = None,
    ) -> None:
        """:meth:`_append_many` of events whose canonical payload texts are made already; ``along`` (PostgreSQL):
        the rows they carry, written with them, then COMMIT (see :func:`_append_events`)."""
        written = self._written(conn)
        if written.head is None or written.head[0] != seq - 1:
            written.head = None
            self._read_head(conn)
        assert written.head is not None
        if not self._before_signing and written.identity is None:
            written.identity = database.session_identity(conn)
        kept = not self._before_signing  # a test's older schema has no identity column
        values = _event_rows(events, (seq, written.head[1]), self._signer, (kept, written.identity))
        columns = (*_EVENT_COLUMNS, "identity") if kept else _EVENT_COLUMNS
        last, digest = values[-1][0], values[-1][8]
        head: dict[str, Any] = {"seq": last, "hash": digest}
        if not self._before_signing:
            head["hmac"] = self._signer.sign_head(last, digest) if self._signer is not None else None
        if (
            _append_events(conn, (columns, values), head, seq - 1, along) != 1
        ):  # pragma: no cover - only if the write lock did not hold
            raise RegisterError(
                "Another process changed the register at the same moment; run the command again."
            )
        written.head = (last, digest)

    def _event_identity(self, conn: Connection, seq: int) -> str | None:
        """Who the database says wrote event ``seq`` (``None`` for events written before identities were kept)."""
        found = conn.execute(sa.select(t.events.c.identity).where(t.events.c.seq == seq)).scalar()
        return str(found) if found is not None else None

    def _model_row(self, conn: Connection, model_name: str) -> Row[Any]:
        row = conn.execute(sa.select(t.models).where(t.models.c.name == model_name)).first()
        if row is None:
            raise NotFoundError(
                f"No model named {model_name!r} is registered; add it with {{add_model}} (see {{list_models}}).",
                **advice("add_model", "list_models", model=model_name),
            )
        return row

    def _version_row(self, conn: Connection, model_name: str, version: str) -> Row[Any]:
        model = self._model_row(conn, model_name)
        row = conn.execute(
            sa.select(t.versions).where(t.versions.c.model_id == model.id, t.versions.c.version == version)
        ).first()
        if row is None:
            known = [v.version for v in self._versions_of(conn, model.id)]
            hint = f" (registered: {', '.join(known)})" if known else ""
            raise NotFoundError(
                f"{model_name} has no version {version!r}{hint}; register it with {{add_version}}.",
                **advice("add_version", model=model_name, version=version),
            )
        return row

    def _versions_of(self, conn: Connection, model_id: int) -> list[Row[Any]]:
        return list(
            conn.execute(
                sa.select(t.versions).where(t.versions.c.model_id == model_id).order_by(t.versions.c.id)
            )
        )

    def _audits_of_artefact(self, conn: Connection, version_row: Row[Any]) -> list[lifecycle.AuditFacts]:
        """Every audit of this version's exact artefact, oldest first, with the override its event records."""
        rows = conn.execute(
            sa.select(t.audits, t.events.c.payload, t.events.c.identity)
            .join(t.events, t.events.c.seq == t.audits.c.event_seq)
            .where(t.audits.c.version_id == version_row.id, t.audits.c.artifact_sha256 == version_row.sha256)
            .order_by(t.audits.c.id)
        ).all()
        return [
            lifecycle.audit_facts(audit._mapping, _payload_object(audit.payload), audit.identity)
            for audit in rows
        ]

    def _version_record(
        self, conn: Connection, row: Row[Any], model_name: str | None = None
    ) -> records.VersionRecord:
        if model_name is None:
            model_name = conn.execute(
                sa.select(t.models.c.name).where(t.models.c.id == row.model_id)
            ).scalar_one()
        return queries.version_record(row, model_name, self._vouching_event(conn, model_name, row))

    def _audit_record(self, conn: Connection, row: Row[Any]) -> records.AuditRecord:
        return queries.audit_record(row, *self._names_of_version(conn, row.version_id))

    def _approval_record(self, conn: Connection, row: Row[Any]) -> records.ApprovalRecord:
        return queries.approval_record(row, *self._names_of_version(conn, row.version_id))

    def _names_of_version(self, conn: Connection, version_id: int) -> tuple[str, str]:
        found = conn.execute(
            sa.select(t.models.c.name, t.versions.c.version)
            .join(t.versions, t.versions.c.model_id == t.models.c.id)
            .where(t.versions.c.id == version_id)
        ).one()
        return str(found[0]), str(found[1])


# ---------------------------------------------------------------------- helpers


def _now() -> str:
    return provenance.isoformat(provenance.now())


@dataclass(frozen=True)
class _BatchRead:
    """What every batch of :meth:`Register.export_in_batches` shares: the event view, the audit files' checks
    (made once, by verify) and the audit folders the register does not know."""

    view: Callable[[records.EventRecord], records.EventRecord] | None
    files: AuditFiles
    orphans: list[records.StatusItem]


def _dumped(items: list[Any], exclude: set[str] | None = None) -> list[dict[str, Any]]:
    """Each record as JSON-able data, emptying ``items`` as it goes: the records and their dumps are never all
    held at once (an export of a thousand audits held both)."""
    items.reverse()
    dumped = []
    while items:
        dumped.append(items.pop().model_dump(mode="json", exclude=exclude))
    return dumped


def _first_event(conn: Connection, kind: str) -> Row[Any] | None:
    """The first event of a kind (a register-wide setting is recorded once, and the first one counts)."""
    return conn.execute(
        sa.select(t.events).where(t.events.c.kind == kind).order_by(t.events.c.seq).limit(1)
    ).first()


def _setting_record(conn: Connection, kind: str) -> tuple[int, dict[str, Any]] | None:
    """The event that made a register-wide setting (its number and payload), or ``None``."""
    found = _first_event(conn, kind)
    return (int(found.seq), _payload_object(found.payload)) if found is not None else None


def signing_record(conn: Connection) -> tuple[int, dict[str, Any]] | None:
    """The event that switched signing on (its number and payload), or ``None`` when the register is unsigned."""
    return _setting_record(conn, chain.SIGNING_KIND)


def _payload_object(text: str) -> dict[str, Any]:
    """An event's payload as a dict (empty when it was edited into something unreadable)."""
    try:
        payload = json.loads(text)
    except ValueError:
        payload = {}
    return payload if isinstance(payload, dict) else {}


def roles_record(conn: Connection) -> int | None:
    """The event that made comparing who logged in final (``register require-roles``), or ``None``."""
    found = _setting_record(conn, chain.ROLES_KIND)
    return found[0] if found is not None else None


def shared_role_record(conn: Connection) -> tuple[int, dict[str, Any]] | None:
    """The event that allowed a PostgreSQL register's people to share one database role, or ``None``."""
    return _setting_record(conn, roles.SHARED_ROLE_KIND)


def compares_identities(conn: Connection) -> bool:
    """Whether separation of duties compares who logged in, beside the typed names: on PostgreSQL unless a shared
    role was allowed, on SQLite (operating-system users) only after ``require-roles``."""
    if conn.dialect.name == "postgresql":
        return shared_role_record(conn) is None
    return roles_record(conn) is not None


_FIELD_OF_COLUMN = {"created_by": "actor"}  # the column, as the caller named it


def _refuse_lookalike(conn: Connection, name: str, keys: frozenset[str]) -> None:
    """Refuse a name that prints like a registered one (UTS #39 skeletons, see :mod:`.names`): a reader of the
    list or the site would take one model's state for the other's."""
    from governance.register.names import find_lookalike, first_difference

    existing = [str(found) for found in conn.execute(sa.select(t.models.c.name)).scalars()]
    other = find_lookalike(name, existing, keys)
    if other is not None:
        difference = first_difference(name, other)
        raise RegisterError(
            f"The model name {name!r} looks like the registered model {other!r}"
            f"{f' ({difference})' if difference else ''}, so readers could take one for the other; add a version to "
            f"{other!r} if you meant that model, or choose a name that reads differently."
        )


@functools.cache
@functools.cache
def _limits(table: sa.Table) -> dict[str, int]:
    """The longest text each column of a table keeps (columns without a limit left out)."""
    found = {column.name: getattr(column.type, "length", None) for column in table.c}
    return {name: limit for name, limit in found.items() if limit is not None}


def _check_lengths(table: sa.Table, values: dict[str, Any]) -> None:
    """Refuse text longer than its column, alike on every backend (PostgreSQL would fail mid-write; SQLite would
    keep it, and the register could then not be moved to PostgreSQL)."""
    limits = _limits(table)
    for field, value in values.items():
        if isinstance(value, str):
            _check_text(field, value)
        limit = limits.get(field)
        if limit is not None and isinstance(value, str) and len(value) > limit:
            raise FieldError(
                _FIELD_OF_COLUMN.get(field, field),
                f"The value given for {{field}} is {len(value):,} characters long; the register keeps at most "
                f"{limit}, so shorten it.",
            )


def _check_text(field: str, value: str) -> None:
    """Refuse text no backend can keep as given, alike on every backend: PostgreSQL cannot store a NUL character
    (libpq would cut the text there, and ``verify`` then report the row as edited), and a lone surrogate is not
    Unicode text at all (its event could not be hashed)."""
    if value.isascii() and "\x00" not in value:
        return
    if "\x00" in value:
        problem = "a NUL character (\\x00)"
    else:
        try:
            value.encode("utf-8")
            return
        except UnicodeEncodeError:
            problem = "a character that is not valid Unicode (a lone surrogate)"
    raise FieldError(
        _FIELD_OF_COLUMN.get(field, field),
        f"The value given for {{field}} contains {problem}, which the register cannot keep; remove it.",
    )


def _check_answer_texts(checked: list[Answer]) -> None:
    """:func:`_check_lengths` of checked answers: every text at once (one pass over them joined), then only the
    longest value of each field against its column's limit."""
    joined = "".join(itertools.chain.from_iterable(checked))
    if "\x00" in joined or not (joined.isascii() or _is_unicode(joined)):  # which text, and why
        for answer in checked:
            for field, value in zip(_ANSWER_COLUMNS, answer, strict=False):
                _check_text(field, value)
    limits = _limits(t.checklist_answers)
    for index, field in enumerate(_ANSWER_COLUMNS[:4]):
        if field in limits:
            longest = max(map(operator.itemgetter(index), checked), key=len)
            _check_lengths(t.checklist_answers, {field: longest})


def _is_unicode(text: str) -> bool:
    """Whether ``text`` is Unicode text (no lone surrogate): whether it encodes as UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


_ANSWER_RECORDS = pydantic.TypeAdapter(list[ChecklistAnswerRecord])


Answer = tuple[str, str, str, str]  # a checklist answer checked: framework, item id, status, evidence
_STATUSES = list(
    CHECKLIST_STATUSES
)  # a status is kept as the one of these it equals (an enum member: its value)


def _checked_answers(answers: Iterable[Mapping[str, str]]) -> list[Answer]:
    """Checklist answers, checked, each with its columns in the order the table has them: no function of ours
    called per answer unless it is refused (a batch checks hundreds)."""
    checked: list[Answer] = []
    for answer in answers:
        try:
            get = answer.get
        except AttributeError:
            raise InputError(
                f"An answer must be a mapping of framework, item_id, status and evidence, not {type(answer).__name__}."
            ) from None
        framework, item_id, status, evidence = (
            get("framework"),
            get("item_id"),
            get("status"),
            get("evidence"),
        )
        if status not in CHECKLIST_STATUSES:
            raise InputError(f"The answer {status!r} is not one of {', '.join(CHECKLIST_STATUSES)}.")
        if not (type(framework) is str and (framework := framework.strip())):
            framework = _required(framework, "framework", "the checklist's framework id")
        if not (type(item_id) is str and (item_id := item_id.strip())):
            item_id = _required(item_id, "item_id", "the checklist item's id")
        evidence = evidence or ""
        checked.append(
            (
                framework,
                item_id,
                CHECKLIST_STATUSES[CHECKLIST_STATUSES.index(status)],  # an enum member: its value
                evidence if type(evidence) is str else _as_text(evidence),
            )
        )
    if checked:
        _check_answer_texts(checked)
    return checked


def _required(value: str | None, field: str, what: str) -> str:
    if value is None or not _as_text(value, field).strip():
        raise FieldError(field, f"{{field}} is required: give {what}.")
    return str(value).strip()


def _as_text(value: object, field: str = "evidence") -> str:
    """A value given where text belongs, as text: bytes refused (their repr, ``b'...'``, is not what was meant)."""
    if isinstance(value, bytes | bytearray | memoryview):
        raise FieldError(field, "The value given for {field} is bytes; decode it to text first.")
    return str(value)


def _description_values(description: ModelDescription | None, fields: dict[str, Any]) -> dict[str, Any]:
    """A description (an object, or its fields as keywords) as column values: text stripped, blank text ``None``."""
    unknown = sorted(set(fields) - set(ModelDescription.model_fields))
    if unknown:
        raise TypeError(
            f"{unknown[0]!r} is not a field of a model's description ({', '.join(ModelDescription.model_fields)})"
        )
    if description is not None and fields:
        description = description.model_copy(update=fields)
    values = dict(description if description is not None else ModelDescription.model_construct(**fields))
    return {field: value if isinstance(value, bool) else _optional(value) for field, value in values.items()}


def _override(override: dict[str, Any]) -> dict[str, Any]:
    """An audit's override as the event keeps it: a reason, and the departures from the pin."""
    reason = _required(override.get("reason"), "override", "the reason this audit departs from the pin")
    departures = override.get("departures") or []
    if not isinstance(departures, list):
        raise InputError("An override's departures must be a list of sentences.")
    return {"reason": reason, "departures": [str(item) for item in departures]}


def _optional(value: str | None) -> str | None:
    if value is None:
        return None
    text = str(value).strip()
    return text or None
