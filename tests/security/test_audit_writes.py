"""Audit writes (issue 10, points 3, 4 and 8): ids that never collide, folders never clobbered, crash leftovers
found as orphans and never read as audits, and output paths checked before anything is recorded.

Real subprocesses of ``governance audit`` on a real SQLite file and a real PostgreSQL schema; ``kill -9`` at each
window of the write, held there by the test-only pause hook (``GOVERNANCE_TEST_PAUSE_AT``).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "register"))
from register_support import fresh_postgres_database

from governance.register import Register

REPO = Path(__file__).resolve().parents[2]
FIXED_NOW = "2026-11-23T10:00:00Z"  # every process stamps the same second: the worst case for ids
AUDIT = [
    "--data",
    "holdout.csv",
    "--predictions",
    "pred",
    "--target",
    "label",
    "--sensitive",
    "group",
    "--policy",
    "four-fifths",
    "--n-boot",
    "10",
    "--quiet",
]
VERSIONS = ("1", "2", "3", "4", "5")


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def register_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ws' / '.governance' / 'register.db'}"
    else:
        yield from fresh_postgres_database()


@pytest.fixture
def workspace(tmp_path: Path, register_url: str) -> Path:
    """A workspace with a tiny holdout of saved predictions and the model ``m`` in five registered versions."""
    root = tmp_path / "ws"
    (root / "models").mkdir(parents=True)
    (root / "governance.yaml").write_text("organisation:\n  name: Test Co\n", encoding="utf-8")
    rows = ["id,group,label,pred"] + [f"{i},{'AB'[i % 2]},{(i // 2) % 2},{(i // 3) % 2}" for i in range(120)]
    (root / "holdout.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    with Register(register_url, workspace_root=root) as register:
        register.add_model("m", owner="o@example.com", purpose="Decide", actor="ds@example.com")
        for version in VERSIONS:
            artefact = root / "models" / f"m-{version}.bin"
            artefact.write_bytes(f"vendor model {version}".encode())
            register.add_version("m", version, artifact_path=artefact, actor="ds@example.com")
    return root


def _env(url: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("GOVERNANCE_")}
    env.update(
        PYTHONPATH=str(REPO),
        GOVERNANCE_REGISTER_URL=url,
        GOVERNANCE_ACTOR="auditor@example.com",
        GOVERNANCE_NOW=FIXED_NOW,
        **extra,
    )
    return env


def _start(root: Path, url: str, *args: str, **extra: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "governance", *args],
        cwd=root,
        env=_env(url, **extra),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def governance(root: Path, url: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "governance", *args],
        cwd=root,
        env=_env(url),
        capture_output=True,
        text=True,
        timeout=600,
    )


def _recorded(root: Path, url: str) -> list[tuple[str, str]]:
    with Register(url, workspace_root=root) as register:
        return [(audit.audit_id, audit.audit_json_path) for audit in register.show("m").audits]


def _audit_folders(root: Path) -> list[Path]:
    """Every folder under audits/ holding an audit.json, hidden ones included (what a careless reader would see)."""
    return (
        sorted(path.parent for path in (root / "audits").rglob("audit.json"))
        if (root / "audits").exists()
        else []
    )


def _everything(root: Path) -> list[str]:
    audits = root / "audits"
    return sorted(str(p.relative_to(audits)) for p in audits.rglob("*")) if audits.exists() else []


def _run_together(root: Path, url: str, versions: list[str]) -> None:
    processes = [_start(root, url, "audit", f"m@{version}", *AUDIT, "--no-figures") for version in versions]
    results = [(process.wait(600), *process.communicate()) for process in processes]
    assert [code for code, _out, _err in results] == [results[0][0]] * len(versions), results
    assert results[0][0] in (0, 1, 3), results[0]


def _assert_every_audit_recorded_once(root: Path, url: str, count: int) -> None:
    recorded = _recorded(root, url)
    assert len(recorded) == count
    assert len({audit_id for audit_id, _ in recorded}) == count
    folders = _audit_folders(root)
    assert len(folders) == count, folders
    for audit_id, path in recorded:
        document = json.loads((root / path).read_text(encoding="utf-8"))
        # nobody's folder was overwritten: each folder holds its own audit
        assert document["audit_id"] == audit_id == (root / path).parent.name
    verified = governance(root, url, "register", "verify")
    assert verified.returncode == 0, verified.stdout + verified.stderr
    assert verified.stdout.startswith("OK:")


def test_eight_concurrent_audits_of_one_and_of_several_versions_are_all_recorded(
    workspace: Path, register_url: str
) -> None:
    versions = ["1", "1", "1", "1", "2", "3", "4", "5"]
    _run_together(workspace, register_url, versions)
    _assert_every_audit_recorded_once(workspace, register_url, len(versions))


@pytest.mark.parametrize("spread", ["one-version", "many-versions"])
def test_thirty_two_concurrent_audits_are_all_recorded(
    workspace: Path, register_url: str, spread: str
) -> None:
    versions = ["1"] * 32 if spread == "one-version" else [VERSIONS[i % len(VERSIONS)] for i in range(32)]
    _run_together(workspace, register_url, versions)
    _assert_every_audit_recorded_once(workspace, register_url, 32)


def test_two_audits_in_the_same_second_get_different_ids(workspace: Path, register_url: str) -> None:
    for _ in range(2):
        done = governance(workspace, register_url, "audit", "m@1", *AUDIT, "--no-figures")
        assert done.returncode in (0, 1, 3), done.stderr
    ids = [audit_id for audit_id, _ in _recorded(workspace, register_url)]
    assert len(set(ids)) == 2
    assert all(audit_id.startswith("20261123T100000Z-") for audit_id in ids)  # still readable: the time first


def test_publishing_never_replaces_a_folder_it_did_not_create(tmp_path: Path) -> None:
    from governance.audit.folders import AuditFolder
    from governance.errors import GovernanceError

    claim = AuditFolder.reserve(tmp_path / "m" / "1", "20261123T100000Z")
    squatter = claim.target
    squatter.mkdir()  # an empty folder that appeared under the final name: a rename onto it would succeed on Linux
    (tmp_path / "marker").write_text("x")
    with pytest.raises(GovernanceError, match="already exists"):
        claim.publish(lambda staging: (staging / "audit.json").write_text("{}"))
    claim.release()
    assert squatter.is_dir() and list(squatter.iterdir()) == []  # left as it was, not replaced or removed
    assert sorted(p.name for p in squatter.parent.iterdir()) == [squatter.name]  # our staging is gone


# ---------------------------------------------------------------------- kill -9 at each window


def _paused(process: subprocess.Popen[str], signal_file: Path) -> None:
    """Wait until the audit reaches its pause point (fail, not hang, if it ends without reaching it)."""
    deadline = time.monotonic() + 300
    while not signal_file.exists():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the audit ended (exit {process.returncode}) without pausing: {out}{err}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail("the audit never reached its pause point")
        time.sleep(0.05)


@pytest.mark.parametrize("point", ["figures", "before-rename", "before-commit"])
def test_a_kill_at_any_point_leaves_an_orphan_that_is_reported_never_published_and_cleaned(
    workspace: Path, register_url: str, point: str, tmp_path: Path
) -> None:
    from governance.site.sources import collect
    from governance.workspace import find_workspace

    signal_file = tmp_path / "paused"
    process = _start(
        workspace,
        register_url,
        "audit",
        "m@1",
        *AUDIT,
        GOVERNANCE_TEST_PAUSE_AT=point,
        GOVERNANCE_TEST_PAUSE_FILE=str(signal_file),
    )
    _paused(process, signal_file)
    in_progress = governance(workspace, register_url, "register", "verify")
    assert in_progress.returncode == 0, in_progress.stdout  # an audit being written is not an orphan
    os.kill(process.pid, signal.SIGKILL)
    process.communicate()
    left = _everything(workspace)
    assert left, "the kill left nothing behind to find"
    assert _recorded(workspace, register_url) == []

    verified = governance(workspace, register_url, "register", "verify")
    assert verified.returncode == 1, verified.stdout
    assert "not recorded in the register" in verified.stdout
    assert "governance register clean-orphans" in verified.stdout
    status = governance(workspace, register_url, "status", "--fail-on", "unrecorded")
    assert status.returncode == 1, status.stdout + status.stderr
    assert "not recorded in the register" in status.stdout

    sources = collect(find_workspace(workspace), register_url=register_url)
    assert sources.audits == []  # neither a staging folder nor an unrecorded folder is published

    dry_run = governance(workspace, register_url, "register", "clean-orphans")
    assert dry_run.returncode == 0, dry_run.stderr
    assert "--delete" in dry_run.stdout
    assert _everything(workspace) == left  # a dry run removes nothing
    cleaned = governance(workspace, register_url, "register", "clean-orphans", "--delete")
    assert cleaned.returncode == 0, cleaned.stderr
    assert [p for p in _everything(workspace) if p.count("/") >= 2] == []  # only audits/m/1 itself may remain
    assert governance(workspace, register_url, "register", "verify").returncode == 0

    again = governance(workspace, register_url, "audit", "m@1", *AUDIT)
    assert again.returncode in (0, 1, 3), again.stderr
    _assert_every_audit_recorded_once(workspace, register_url, 1)


def test_hidden_and_unrecorded_folders_are_never_read_by_the_site(workspace: Path, register_url: str) -> None:
    from governance.site.sources import collect, load_audits
    from governance.workspace import find_workspace

    done = governance(workspace, register_url, "audit", "m@1", *AUDIT, "--no-figures")
    assert done.returncode in (0, 1, 3), done.stderr
    [folder] = _audit_folders(workspace)
    hidden = folder.parent / f".{folder.name}.partial"
    copied = folder.parent / "20261123T100000Z-copied00"
    for extra in (hidden, copied):
        extra.mkdir()
        (extra / "audit.json").write_bytes((folder / "audit.json").read_bytes())
    assert [record.folder for record in load_audits(workspace / "audits", [])] == sorted([folder, copied])
    sources = collect(find_workspace(workspace), register_url=register_url)
    assert [record.folder for record in sources.audits] == [folder]
    assert any("not recorded in the register" in problem for problem in sources.problems)


# ---------------------------------------------------------------------- output paths checked first


@pytest.mark.parametrize("target", ["missing/audit.json", "models", "holdout.csv/audit.json"])
def test_a_json_path_that_cannot_be_written_fails_before_anything_is_recorded(
    workspace: Path, register_url: str, target: str
) -> None:
    done = governance(workspace, register_url, "audit", "m@1", *AUDIT, "--no-figures", "--json", target)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("Error: ") and done.stderr.count("\n") == 1, done.stderr
    assert "--json" in done.stderr and "Traceback" not in done.stderr
    assert _recorded(workspace, register_url) == []
    assert _audit_folders(workspace) == []


def test_an_output_folder_under_a_file_fails_before_anything_is_recorded(
    workspace: Path, register_url: str
) -> None:
    done = governance(
        workspace, register_url, "audit", "m@1", *AUDIT, "--no-figures", "--output", "holdout.csv/out"
    )
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.startswith("Error: ") and "Traceback" not in done.stderr
    assert _recorded(workspace, register_url) == []


def test_the_json_copy_is_written_after_the_audit_is_recorded(workspace: Path, register_url: str) -> None:
    (workspace / "out").mkdir()
    done = governance(
        workspace, register_url, "audit", "m@1", *AUDIT, "--no-figures", "--json", "out/audit.json"
    )
    assert done.returncode in (0, 1, 3), done.stderr
    [(_audit_id, path)] = _recorded(workspace, register_url)
    assert (workspace / "out" / "audit.json").read_text(encoding="utf-8") == (workspace / path).read_text(
        encoding="utf-8"
    )


def test_an_audit_being_written_is_never_cleaned_and_its_folder_is_found_once_its_writer_is_gone(
    workspace: Path, register_url: str
) -> None:
    from governance.audit.folders import AuditFolder

    claim = AuditFolder.reserve(workspace / "audits" / "m" / "1", "20261123T100000Z")
    folder = claim.publish(lambda staging: (staging / "audit.json").write_text("{}"))
    with Register(register_url, workspace_root=workspace) as register:
        assert register.clean_orphans(delete=True) == []  # its writer holds the lock: still being recorded
        assert register.verify().ok
        claim.release()  # the writer stops without recording it
        [orphan] = register.clean_orphans()
        assert (orphan.path, orphan.kind) == (folder, "unrecorded")
        assert [problem.kind for problem in register.verify().problems] == ["orphan"]
        assert [item.category for item in register.status().items] == ["unrecorded"]
        assert register.clean_orphans(delete=True) == [orphan]
        assert not folder.exists() and register.verify().ok


# SIGTERM that arrives just after the register committed the audit (while the connection is handed back: on
# PostgreSQL one more exchange with the server), sent by the process itself at that point.
STOPPED_AFTER_COMMIT = """
import os, signal, sys
from governance.cli.main import main
from governance.register import Register

record = Register.record_audit


def recorded_then_stopped(self, *args, **kwargs):
    answer = record(self, *args, **kwargs)
    os.kill(os.getpid(), signal.SIGTERM)
    for _ in range(100000):
        pass
    return answer


Register.record_audit = recorded_then_stopped
main(sys.argv[1:])
"""


def test_a_stop_after_the_audit_is_recorded_keeps_its_folder(workspace: Path, register_url: str) -> None:
    """The register holds the audit, so its folder stays: removing it left a recorded audit without its files
    (`register verify` failed, the site lost the audit)."""
    done = subprocess.run(
        [sys.executable, "-c", STOPPED_AFTER_COMMIT, "audit", "m@1", *AUDIT],
        cwd=workspace,
        env=_env(register_url),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 143, done.stderr
    assert len(_recorded(workspace, register_url)) == 1
    # The sentence says the audit is kept: "run it again" would record a second audit of the same run.
    assert "Stopped (SIGTERM) after the audit " in done.stderr, done.stderr
    assert "do not run the audit again" in done.stderr, done.stderr
    _assert_every_audit_recorded_once(workspace, register_url, 1)
    verified = governance(workspace, register_url, "register", "verify")
    assert verified.returncode == 0, verified.stdout
