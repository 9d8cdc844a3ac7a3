"""Found by the issue-10 review: a full or read-only disk made the register look damaged, or gave a traceback.

On a real, tiny file system (a tmpfs mounted for the test; skipped where mounting is not allowed), a change that
no longer fits failed with a SQLite traceback and exit 1 (which CI reads as a refused guard), and once the disk was
full to the last block every command said the register was *damaged* and should be restored from a backup, which
would throw away history that was intact. Now both are one sentence that says the disk is full (exit 2), and after
space is freed the register verifies and takes the change. A read-only disk was called damaged too.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from governance.cli.main import cli
from governance.register import Register
from tests.mounts import small_filesystem


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    with small_filesystem(tmp_path / "disk", "400k") as mount:
        yield mount


@pytest.fixture
def workspace(small_disk: Path) -> Path:
    root = small_disk / "ws"
    root.mkdir()
    (root / "governance.yaml").write_text("organisation:\n  name: Test Co\n", encoding="utf-8")
    (root / "m.bin").write_bytes(b"model")
    with Register(f"sqlite:///{root / '.governance' / 'register.db'}", workspace_root=root) as register:
        register.add_model("m", owner="o@example.com", purpose="Decide", actor="ds@example.com")
        register.add_version("m", "1", artifact_path=root / "m.bin", actor="ds@example.com")
    return root


def fill(disk: Path, leave_kib: int) -> Path:
    """A file that takes all the free space but ``leave_kib`` KiB."""
    free = shutil.disk_usage(disk).free // 1024
    filler = disk / "filler"
    filler.write_bytes(bytes(max(free - leave_kib, 0) * 1024))
    return filler


def run(root: Path, *args: str) -> Result:
    env = {
        "GOVERNANCE_ACTOR": "ds@example.com",
        "GOVERNANCE_WORKSPACE": str(root),
        "GOVERNANCE_REGISTER_URL": None,
    }
    return CliRunner().invoke(cli, list(args), env=env)


def one_sentence(result: Result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    return lines[0]


INCIDENT = (
    "register",
    "incident",
    "m@1",
    "--title",
    "big",
    "--severity",
    "low",
    "--description",
    "y" * 150_000,
)


@pytest.mark.parametrize("leave_kib", [80, 0], ids=["change-does-not-fit", "disk-full-to-the-last-block"])
def test_a_full_disk_is_one_sentence_and_the_register_survives(
    workspace: Path, small_disk: Path, leave_kib: int
) -> None:
    filler = fill(small_disk, leave_kib)
    result = run(workspace, *INCIDENT)
    assert result.exit_code == 2, result.output
    message = one_sentence(result)
    assert (
        "is full" in message
        and "damaged SQLite" not in message
        and "restore" not in message.replace("do not restore", "")
    )
    filler.unlink()
    assert run(workspace, "register", "verify").exit_code == 0
    small = run(workspace, "register", "incident", "m@1", "--title", "after", "--severity", "low")
    assert small.exit_code == 0, small.output
    assert run(workspace, "register", "verify").exit_code == 0


@pytest.mark.parametrize("command", [("register", "verify"), ("register", "list"), INCIDENT[:7]])
def test_a_read_only_disk_is_not_called_a_damaged_register(
    workspace: Path, small_disk: Path, command: tuple[str, ...]
) -> None:
    """A reviewer's read-only copy, or a CI job's read-only mount: every command said "damaged, restore a backup"."""
    subprocess.run(["mount", "-o", "remount,ro", str(small_disk)], check=True)
    try:
        result = run(workspace, *command)
    finally:
        subprocess.run(["mount", "-o", "remount,rw", str(small_disk)], check=True)
    assert result.exit_code == 2, result.output
    message = one_sentence(result)
    assert "cannot be written" in message and "damaged SQLite" not in message
    assert run(workspace, "register", "verify").exit_code == 0
