"""No model file runs code unless someone vouched for it, and the register says who (issue 10, point 6).

The attack: register a pickle, or a skops file that needs ``posix.system``, and wait for someone else's
``governance audit NAME@VERSION`` to load it under their account. Both files here really create a marker file
when loaded without our checks; the tests check that the marker never appears.
"""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from security_support import (
    add_model_version,
    evil_pickle,
    evil_skops,
    make_workspace,
    one_error_line,
    run,
    zip_bomb,
)

from governance.provenance import sha256_file
from governance.register import Register
from governance.workspace import require_workspace

AUDIT = (
    "--data",
    "holdout.csv",
    "--target",
    "label",
    "--sensitive",
    "group",
    "--no-explain",
    "--no-figures",
    "--n-boot",
    "50",
    "--policy",
    "nyc-ll144",
)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_workspace(tmp_path / "ws")
    monkeypatch.chdir(root)  # --data HOLDOUT and other relative paths are read from here
    return root


def _unchecked(path: Path, **_given: object) -> object:
    """What registering did before this check existed: hash the file, look at nothing else."""
    import governance.intake.model_files as model_files

    return model_files.ModelFileCheck("other", sha256=sha256_file(path))


def _models(workspace: Path) -> list[str]:
    database = workspace / ".governance" / "register.db"
    if not database.exists():
        return []
    with Register.for_workspace(require_workspace(workspace)) as register:
        return [summary.name for summary in register.list_models()]


@pytest.mark.parametrize("maker", [evil_pickle, evil_skops], ids=["pickle", "skops-posix-system"])
def test_registering_code_without_trust_is_refused_and_nothing_runs(
    workspace: Path, maker, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    marker = tmp_path / "MARKER"
    evil = maker(workspace / ("evil.pkl" if maker is evil_pickle else "evil.skops"), marker)
    digest = sha256_file(evil)
    added = add_model_version(workspace, str(evil))
    assert added.exit_code == 4, added.output
    line = one_error_line(added)
    assert f"--trust {digest}" in line
    if maker is evil_skops:
        assert "posix.system" in line
    assert _models(workspace) == []  # checked before anything is registered
    run(workspace, "register", "add", "m", "--owner", "o@x", "--purpose", "p")
    version = run(workspace, "register", "version", "m", "--version", "1", "--model", str(evil))
    assert version.exit_code == 4, version.output
    one_error_line(version)
    audit = run(workspace, "audit", "m@1", *AUDIT, actor="auditor@example.com")
    assert audit.exit_code == 2, audit.output  # no such version: nothing to load
    assert not marker.exists()


def test_a_wrong_trust_hash_is_refused(workspace: Path, tmp_path: Path) -> None:
    evil = evil_pickle(workspace / "evil.pkl", tmp_path / "MARKER")
    run(workspace, "register", "add", "m", "--owner", "o@x", "--purpose", "p")
    result = run(
        workspace, "register", "version", "m", "--version", "1", "--model", str(evil), "--trust", "ab" * 32
    )
    assert result.exit_code == 4, result.output
    assert "does not match" in one_error_line(result)
    assert not (tmp_path / "MARKER").exists()


def test_a_pickle_pinned_before_vouching_existed_is_not_loaded_by_the_audit(
    workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A register written by an older version holds a pickle nobody vouched for: the pin alone is no vouching."""
    import governance.intake.model_files as model_files

    marker = tmp_path / "MARKER"
    evil = evil_pickle(workspace / "evil.pkl", marker)
    with monkeypatch.context() as patched:  # what the old `register version` did: no check at all
        patched.setattr(model_files, "check_model_file", _unchecked)
        assert add_model_version(workspace, str(evil)).exit_code == 0
    audit = run(workspace, "audit", "m@1", *AUDIT, actor="auditor@example.com")
    assert audit.exit_code == 4, audit.output
    assert "nobody vouched for it" in one_error_line(audit)
    assert not marker.exists()


def test_a_vouched_pickle_names_who_vouched_in_show_history_and_the_audit(workspace: Path) -> None:
    digest = sha256_file(workspace / "model.pkl")
    added = add_model_version(workspace, str(workspace / "model.pkl"), "--trust", digest)
    assert added.exit_code == 0, added.output
    assert "vouched" in added.output
    shown = run(workspace, "register", "show", "m")
    assert "vouched for by ds@example.com" in shown.output, shown.output
    history = run(workspace, "register", "history", "m").output
    assert "ds@example.com vouched for m@1" in history, history
    with Register.for_workspace(require_workspace(workspace)) as register:
        kinds = [event.kind for event in register.history("m")]
        assert kinds == ["model.registered", "version.registered", "version.vouched"]
        assert register.verify().ok
        assert register.vouching("m", "1") is not None
    audit = run(workspace, "audit", "m@1", *AUDIT, actor="auditor@example.com")
    assert audit.exit_code == 0, audit.output
    assert "vouched for by ds@example.com" in audit.output
    folder = next((workspace / "audits" / "m" / "1").iterdir())
    result = json.loads((folder / "audit.json").read_text(encoding="utf-8"))
    assert result["model"]["vouched_by"] == "ds@example.com"
    assert result["model"]["vouched_at"]
    assert "vouched for by ds@example.com" in (folder / "report.md").read_text(encoding="utf-8")


def test_vouching_for_an_already_registered_version(workspace: Path) -> None:
    """Registering the same file again with --trust adds the vouching (for registers from before it existed)."""
    import governance.intake.model_files as model_files

    digest = sha256_file(workspace / "model.pkl")
    original = model_files.check_model_file
    model_files.check_model_file = _unchecked  # type: ignore[assignment]
    try:
        assert add_model_version(workspace, str(workspace / "model.pkl")).exit_code == 0
    finally:
        model_files.check_model_file = original  # type: ignore[assignment]
    again = run(
        workspace,
        "register",
        "version",
        "m",
        "--version",
        "1",
        "--model",
        str(workspace / "model.pkl"),
        "--trust",
        digest,
        actor="lead@example.com",
    )
    assert again.exit_code == 0, again.output
    assert "vouched for by lead@example.com" in run(workspace, "register", "show", "m").output


def test_the_model_page_shows_the_vouching(workspace: Path) -> None:
    from governance.site.model_page import render_model_page
    from governance.site.sources import collect

    digest = sha256_file(workspace / "model.pkl")
    assert add_model_version(workspace, str(workspace / "model.pkl"), "--trust", digest).exit_code == 0
    sources = collect(require_workspace(workspace))
    page = render_model_page(
        sources.models["m"],
        audit_links={},
        figure=None,
        checklist_link=None,
        ll144_link=None,
        min_cell_size=10,
    )
    assert "vouched for by ds@example.com" in html.unescape(page), page


def test_a_zip_bomb_is_refused_before_it_is_inflated(workspace: Path) -> None:
    bomb = zip_bomb(workspace / "bomb.skops", inflated_bytes=4095 << 20)  # 4 GiB of zeros in about 4 MB
    assert bomb.stat().st_size < 6_000_000
    added = add_model_version(workspace, str(bomb))
    assert added.exit_code == 4, added.output
    assert "zip bomb" in one_error_line(added)
    explained = run(workspace, "explain", "--model", str(bomb), "--data", "holdout.csv")
    assert explained.exit_code == 4, explained.output
    one_error_line(explained)
    # The audit, in its own process: refused, and its memory stays far below the 2 GiB the bomb would take.
    process = subprocess.Popen(
        [sys.executable, "-m", "governance", "audit", "m@1", "--no-register", "--model", str(bomb), *AUDIT],
        cwd=workspace,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        env={**os.environ, "GOVERNANCE_WORKSPACE": str(workspace)},
    )
    output = process.stdout.read().decode() if process.stdout else ""
    _pid, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    assert process.returncode == 4, output
    assert "zip bomb" in output and "Traceback" not in output
    # Kilobytes on Linux. The command's own imports take 0.2-0.9 GiB depending on the installed library versions;
    # inflating the bomb would add 4 GiB, so a peak under 1.5 GiB shows that it was refused before reading.
    assert usage.ru_maxrss < 1536 * 1024, usage.ru_maxrss


def test_a_small_dense_bomb_is_refused_by_its_ratio(tmp_path: Path) -> None:
    """64 MB from 65 KB: under the size limit, but no model's arrays compress 1,000 to 1."""
    from governance.errors import RefusedInputError
    from governance.intake.model_files import check_model_file, load_model

    bomb = zip_bomb(tmp_path / "dense.skops", 64 << 20)
    with pytest.raises(RefusedInputError, match="more than the 100 to 1"):
        check_model_file(bomb)
    with pytest.raises(RefusedInputError, match="zip bomb"):
        load_model(bomb)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def register_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'register.db'}"
    else:
        from tests.register.register_support import fresh_postgres_database

        yield from fresh_postgres_database()


def test_the_register_keeps_the_vouching_as_its_own_signed_event(register_url: str, workspace: Path) -> None:
    from governance.errors import RefusedInputError

    pickled = workspace / "model.pkl"
    digest = sha256_file(pickled)
    with Register(register_url, workspace_root=workspace, hmac_key=b"k" * 32) as register:
        register.add_model("m", owner="o@x", purpose="p", actor="ds@x")
        with pytest.raises(RefusedInputError, match="nobody vouched for it"):
            register.add_version("m", "1", artifact_path=pickled, actor="ds@x")
        assert [event.kind for event in register.history("m")] == ["model.registered"]  # nothing half-written
        record = register.add_version("m", "1", artifact_path=pickled, actor="ds@x", trust_sha256=digest)
        assert (record.vouched_by, record.vouched_at is not None) == ("ds@x", True)
        vouched = register.history("m")[-1]
        assert (vouched.kind, vouched.actor, vouched.payload["sha256"]) == ("version.vouched", "ds@x", digest)
        assert vouched.hmac is not None
        assert register.details()[0].versions[0].vouched_by == "ds@x"
        assert register.export()["models"][0]["versions"][0]["vouched_by"] == "ds@x"
        assert register.verify().ok
        again = register.add_version("m", "1", artifact_path=pickled, actor="other@x", trust_sha256=digest)
        assert again.vouched_by == "ds@x"  # the same file again: no second vouching
        assert [event.kind for event in register.history("m")].count("version.vouched") == 1


def test_a_central_directory_that_understates_sizes_inflates_no_more_than_it_says(tmp_path: Path) -> None:
    """The check trusts the declared sizes because Python's zip reader stops there (and fails the CRC)."""
    import struct

    from governance.errors import InputError, RefusedInputError
    from governance.intake.model_files import load_model

    raw = bytearray(zip_bomb(tmp_path / "bomb.skops", 64 << 20).read_bytes())
    struct.pack_into("<I", raw, raw.rfind(b"PK\x01\x02") + 24, 1000)  # declare 1,000 bytes instead of 64 MB
    forged = tmp_path / "forged.skops"
    forged.write_bytes(bytes(raw))
    with pytest.raises(InputError, match="not a readable skops file") as error:
        load_model(forged)
    assert not isinstance(error.value, RefusedInputError)
