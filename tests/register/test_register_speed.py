"""Speed without wall clocks: what the register must not do (import, query, hold in memory), counted.

Issue 13: opening an up-to-date register imported Alembic on every command; writes ran more statements than
they need; ``verify`` held every event and row in memory; reads issued queries per version or event.
"""

from __future__ import annotations

import subprocess
import sys
import tracemalloc
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from governance.register import Register
from governance.register import database as db


@contextmanager
def counted(register: Register) -> Iterator[list[str]]:
    """Every SQL statement the register's engine runs inside the block."""
    seen: list[str] = []

    def note(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    sa.event.listen(register.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        sa.event.remove(register.engine, "before_cursor_execute", note)


def test_revisions_are_read_without_alembic_and_agree_with_it() -> None:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(db._alembic_config())
    assert db._revision_graph() == {r.revision: r.down_revision for r in script.walk_revisions()}
    assert db.head_revision() == script.get_current_head()


def test_opening_an_up_to_date_register_does_not_import_alembic(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'register.db'}"
    Register(url).close()  # created and migrated here
    code = (
        "import sys\n"
        "from governance.register import Register\n"
        f"with Register({url!r}) as register:\n"
        "    register.add_model('m', owner='o@x', purpose='p', actor='a@x')\n"
        "print(sorted({m.split('.')[0] for m in sys.modules if m.split('.')[0] in ('alembic', 'mako')}))\n"
    )
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert completed.stdout.strip() == "[]"


def test_a_write_runs_few_statements(drafted: Register, backend: str) -> None:
    """BEGIN, the model, the chain head with the signing state, the row (RETURNING), the event, the head; on
    PostgreSQL also the write lock and who is logged in. Today's code ran 9 (SQLite) and 11."""
    with counted(drafted) as statements:
        drafted.record_checklist_answer(
            "credit-risk", framework="eu-ai-act", item_id="a", status="yes", evidence="e", actor="r@x"
        )
    assert len(statements) <= (6 if backend == "sqlite" else 8), statements


def test_many_checklist_answers_are_one_commit_with_one_event_each(drafted: Register) -> None:
    answers = [
        {"framework": "eu-ai-act", "item_id": f"item-{i}", "status": "yes", "evidence": f"doc {i}"}
        for i in range(20)
    ]
    before = len(drafted.history())
    commits: list[object] = []

    def note(connection: object) -> None:
        commits.append(connection)

    sa.event.listen(drafted.engine, "commit", note)
    recorded = drafted.record_checklist_answers("credit-risk", answers, actor="r@x")
    sa.event.remove(drafted.engine, "commit", note)
    assert len(commits) == 1
    assert [r.item_id for r in recorded] == [a["item_id"] for a in answers]
    events = drafted.history()[before:]
    assert [e.kind for e in events] == ["checklist.answered"] * 20
    assert [e.payload["rows"][0]["record"]["item_id"] for e in events] == [a["item_id"] for a in answers]
    assert drafted.verify().ok


def test_a_bad_answer_in_a_batch_records_none_of_them(drafted: Register) -> None:
    import pytest

    from governance.errors import InputError

    before = len(drafted.history())
    with pytest.raises(InputError, match="not one of"):
        drafted.record_checklist_answers(
            "credit-risk",
            [
                {"framework": "eu-ai-act", "item_id": "a", "status": "yes", "evidence": "e"},
                {"framework": "eu-ai-act", "item_id": "b", "status": "maybe", "evidence": "e"},
            ],
            actor="r@x",
        )
    assert len(drafted.history()) == before
