"""``governance`` used as a library, many audits in one process: nothing one audit read ahead or froze is used
or kept by the next."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from engine_support import COMMON, prediction_log, write_duckdb

from governance.audit.run import audit
from governance.errors import InputError
from governance.workspace import Workspace


def test_versions_read_ahead_for_a_failed_audit_are_not_reported_by_the_next(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A table audit reads the library versions while the engine counts; if it then fails (a missing column),
    a later audit must still read the versions installed then, not the ones read for the failed one."""
    frame = prediction_log(n=200)
    url = write_duckdb(frame, tmp_path / "log.duckdb")
    options = {**COMMON, "predictions": "hired", "sensitive": ["sex"], "workspace": Workspace(root=tmp_path)}
    with pytest.raises(InputError, match="no column 'nope'"):
        audit(table="log", connection=url, target="nope", **options)
    upgraded = tmp_path / "site"  # numpy "upgraded" meanwhile: its metadata now says 99.0
    (upgraded / "numpy-99.0.dist-info").mkdir(parents=True)
    (upgraded / "numpy-99.0.dist-info" / "METADATA").write_text(
        "Metadata-Version: 2.1\nName: numpy\nVersion: 99.0\n"
    )
    monkeypatch.syspath_prepend(str(upgraded))
    csv = tmp_path / "log.csv"
    frame.to_csv(csv, index=False)
    result = audit(data=csv, target="performed", **options).result
    assert result.provenance.library_versions["numpy"] == "99.0"


GC_AFTER_COMMANDS = """
import gc, weakref
from governance.cli.main import main

class Node:
    pass

def command():
    try:
        main(["--version"])
    except SystemExit:
        pass

command()
node = Node()
node.itself = node  # garbage only the cyclic collector frees
ref = weakref.ref(node)
del node
command()
gc.collect()
print("freed" if ref() is None else "kept")
"""


def test_commands_run_in_process_leave_the_garbage_collector_working() -> None:
    """``main()`` called again and again in one process (a notebook, a test runner): the objects of one call
    are still collected; only the process's exit may freeze them."""
    done = subprocess.run(
        [sys.executable, "-c", GC_AFTER_COMMANDS], capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == "freed", done.stderr
