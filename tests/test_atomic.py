"""Files written whole (governance.atomic) where the target is not a plain file in a plain folder: a device or a
pipe (``--json /dev/stdout``), a symbolic link, an existing file with its own permissions."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

from governance.atomic import write_atomically


def test_a_pipe_or_device_is_written_into_not_replaced(tmp_path: Path) -> None:
    """``--json /dev/stdout``: renaming a temporary file over it replaced /dev/stdout itself (as root, for every
    later process of the machine) and the output went nowhere."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = subprocess.Popen(["cat", str(fifo)], stdout=subprocess.PIPE)
    write_atomically(fifo, '{"a": 1}\n', named=True)
    out, _ = reader.communicate(timeout=30)
    assert out == b'{"a": 1}\n'
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert not [path for path in tmp_path.iterdir() if path.name.startswith(".")]


def test_a_link_to_standard_output_writes_to_it(tmp_path: Path) -> None:
    """/dev/stdout is such a link (to /proc/self/fd/1); a link of the test's own, so that a failure here does not
    replace the machine's /dev/stdout."""
    stdout = tmp_path / "stdout"
    stdout.symlink_to("/proc/self/fd/1")
    code = f"from governance.atomic import write_atomically; write_atomically({str(stdout)!r}, 'hello\\n', named=True)"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
        check=True,
    )
    assert done.stdout == b"hello\n"
    assert stdout.is_symlink()


def test_standard_output_redirected_to_a_file_is_written_into_that_open_file(tmp_path: Path) -> None:
    """``--json /dev/stdout > out.json``: replacing out.json would leave the shell's open file empty."""
    stdout = tmp_path / "stdout"
    stdout.symlink_to("/proc/self/fd/1")
    code = f"from governance.atomic import write_atomically; write_atomically({str(stdout)!r}, 'hello\\n', named=True)"
    with (tmp_path / "out.json").open("wb") as out:
        subprocess.run(
            [sys.executable, "-c", code],
            stdout=out,
            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])},
            check=True,
        )
    assert (tmp_path / "out.json").read_bytes() == b"hello\n"


def test_a_symbolic_link_stays_a_link_and_its_target_is_replaced(tmp_path: Path) -> None:
    real = tmp_path / "shared" / "audit.json"
    real.parent.mkdir()
    real.write_text("old\n", encoding="utf-8")
    link = tmp_path / "audit.json"
    link.symlink_to(real)
    write_atomically(link, "new\n", named=True)
    assert link.is_symlink() and real.read_text(encoding="utf-8") == "new\n"


def test_the_file_keeps_its_permissions_and_a_new_one_gets_the_usual_ones(tmp_path: Path) -> None:
    """A temporary file is made readable by its owner only; renamed into place, it made a shared file (read by a
    CI job's upload step, a web server) unreadable to the others."""
    kept = tmp_path / "kept.json"
    kept.write_text("old\n", encoding="utf-8")
    kept.chmod(0o640)
    write_atomically(kept, "new\n")
    assert stat.S_IMODE(kept.stat().st_mode) == 0o640
    umask = os.umask(0o022)
    try:
        write_atomically(tmp_path / "new.json", "new\n")
    finally:
        os.umask(umask)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o644


def test_a_workspace_file_never_leads_elsewhere(tmp_path: Path) -> None:
    """A file the tool writes on its own (not a path the user named): a link or a pipe planted in its place is
    replaced, never written through (a cloned repository's register-head.json linked to a device or a dotfile)."""
    outside = tmp_path / "outside" / ".bashrc"
    outside.parent.mkdir()
    outside.write_text("keep me\n", encoding="utf-8")
    link = tmp_path / "register-head.json"
    link.symlink_to(outside)
    write_atomically(link, "{}\n")
    assert not link.is_symlink() and link.read_text(encoding="utf-8") == "{}\n"
    assert outside.read_text(encoding="utf-8") == "keep me\n"
    fifo = tmp_path / "state.json"
    os.mkfifo(fifo)
    write_atomically(fifo, "{}\n")  # a pipe nobody reads would block a write into it forever
    assert stat.S_ISREG(fifo.stat().st_mode) and fifo.read_text(encoding="utf-8") == "{}\n"
