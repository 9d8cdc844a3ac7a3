"""Issue-10 review: ``kill -9`` in the middle of a register change, on SQLite and PostgreSQL.

Each command is held by the test-only pause hook after it has written its rows and its event but before its
transaction commits, then killed with SIGKILL. The register must be as before (no half change, ``verify`` OK),
the write lock must be free again, and the same command must then succeed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from governance.provenance import sha256_file
from governance.register import Register
from tests.register.register_support import People, fresh_postgres_database

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def register_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ws' / '.governance' / 'register.db'}"
    else:
        yield from fresh_postgres_database()


@pytest.fixture
def people(register_url: str, tmp_path: Path) -> Iterator[People]:
    with People(register_url, tmp_path / "ws") as found:
        yield found


@pytest.fixture
def workspace(tmp_path: Path, register_url: str, people: People) -> Path:
    """m@1 registered, audited (passed) by one person (their own database role on PostgreSQL); m@1 can now be
    approved by another, m@2 registered."""
    root = tmp_path / "ws"
    (root / "audits" / "m" / "1" / "a1").mkdir(parents=True)
    (root / "governance.yaml").write_text("organisation:\n  name: Test Co\n", encoding="utf-8")
    for version in ("1", "2"):
        (root / f"m-{version}.bin").write_bytes(f"vendor model {version}".encode())
    audit_json = root / "audits" / "m" / "1" / "a1" / "audit.json"
    audit_json.write_text('{"audit_id": "a1"}', encoding="utf-8")
    with people.register("ds") as register:
        register.add_model("m", owner="o@example.com", purpose="Decide", actor="ds@example.com")
        register.add_version("m", "1", artifact_path=root / "m-1.bin", actor="ds@example.com")
        register.record_audit(
            "m", "1", audit_id="a1", audit_json_path=audit_json, verdict="passed", policy_name="default",
            policy_sha256=sha256_file(audit_json), data_sha256="d" * 64,
            artifact_sha256=register.resolve_version("m", "1").sha256, tool_versions={},
            actor="auditor@example.com", max_age_days=365,
        )  # fmt: skip
    return root


COMMANDS = {
    "register version": ("register", "version", "m", "--version", "2", "--model", "m-2.bin"),
    "register approve": ("register", "approve", "m@1", "--role", "risk-officer"),
    "register add": ("register", "add", "n", "--owner", "o@example.com", "--purpose", "Decide"),
    "register incident": ("register", "incident", "m@1", "--title", "t", "--severity", "low"),
    # on PostgreSQL its rows, event and COMMIT go to the server in one exchange: killed just before it
    "checklist answer": (
        "checklist",
        "answer",
        "m",
        "eu-ai-act.art14.oversight-design",
        "--status",
        "yes",
        "--evidence",
        "e",
    ),
}


def _env(url: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GOVERNANCE_")}
    env.update(
        PYTHONPATH=str(REPO), GOVERNANCE_REGISTER_URL=url, GOVERNANCE_ACTOR="boss@example.com", **extra
    )
    return env


def governance(root: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "governance", *args], cwd=root, env=_env(url),
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def _events(root: Path, url: str) -> int:
    with Register(url, workspace_root=root) as register:
        return register.chain_head()[0]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_a_change_killed_before_its_commit_leaves_the_register_as_it_was(
    workspace: Path, register_url: str, command: str, tmp_path: Path
) -> None:
    before = _events(workspace, register_url)
    paused = tmp_path / "paused"
    env = _env(
        register_url, GOVERNANCE_TEST_PAUSE_AT="register-commit", GOVERNANCE_TEST_PAUSE_FILE=str(paused)
    )
    process = subprocess.Popen([sys.executable, "-m", "governance", *COMMANDS[command]], cwd=workspace, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    while not paused.exists():
        assert process.poll() is None, process.communicate()
        time.sleep(0.05)
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()
    assert _events(workspace, register_url) == before  # nothing of the change is left
    verified = governance(workspace, register_url, "register", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    again = governance(workspace, register_url, *COMMANDS[command])  # the lock went with the process
    assert again.returncode == 0, again.stdout + again.stderr
    assert _events(workspace, register_url) == before + 1
    assert governance(workspace, register_url, "register", "verify").returncode == 0
