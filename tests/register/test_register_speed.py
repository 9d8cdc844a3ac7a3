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
