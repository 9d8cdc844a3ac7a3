"""The site publishes only what the register vouches for, and ``verify`` checks every file of an audit.

Attacks measured on the earlier code: a forged or edited ``audit.json`` was published as the model's verdict; a
damaged or foreign register gave a site without owners, approvals or history (exit 0); a killed build left
``site/`` without ``index.html``; a symbolic link in ``figures/`` copied any readable file into the site; and
``verify`` hashed ``audit.json`` only, so ``report.md`` and the figures could be edited undetected.
"""

from __future__ import annotations

import html
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from governance.cli.main import cli
from governance.errors import GovernanceError, InputError
from governance.register import Register
from governance.scaffold import init_workspace
from governance.site import build_site
from governance.workspace import find_workspace
from tests.register.register_support import fresh_postgres_database
from tests.site.conftest import make_audit, write_audit

FOLDER = Path("audits/scorer/1.0/s1")
SECRET = "root:x:0:0:the secret outside the audit folder"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def register_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str | None]:
    """The workspace's own SQLite register (``None``: the default location), or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield None
    else:
        yield from fresh_postgres_database()


def record(root: Path, folder: Path, *, url: str | None = None, audit_id: str = "s1") -> None:
    """Register scorer@1.0 (once) and record the audit in ``folder`` as the audit command does."""
    workspace = find_workspace(root)
    artefact = root / "model.skops"
    with Register.for_workspace(workspace, url) as register:
        if not artefact.exists():
            artefact.write_bytes(b"not really a model")
            register.add_model(
                "scorer", owner="ana@example.com", purpose="Score leads", actor="ana@example.com"
            )
            register.add_version("scorer", "1.0", artifact_path=artefact, actor="ana@example.com")
        register.record_audit(
            "scorer", "1.0", audit_id=audit_id, audit_json_path=folder / "audit.json", verdict="failed",
            policy_name="default", policy_sha256="ef" * 32, data_sha256="cd" * 32,
            artifact_sha256=register.resolve_version("scorer", "1.0").sha256, tool_versions={},
            actor="carl@example.com", max_age_days=365,
        )  # fmt: skip


def registered_workspace(root: Path, *, url: str | None = None) -> Path:
    """A workspace with one recorded audit that failed its policy: audit.json, report.md and four figures."""
    init_workspace(root, organisation="Acme Lending")
    folder = write_audit(root, make_audit("scorer", "1.0", "s1", verdict="failed", ratio=0.62))
    (folder / "report.md").write_text("# Audit of scorer 1.0\n\n**Verdict: failed**\n", encoding="utf-8")
    record(root, folder, url=url)
    return root


@pytest.fixture
def workspace(tmp_path: Path, register_url: str | None) -> Path:
    return registered_workspace(tmp_path / "ws", url=register_url)


@pytest.fixture
def site_workspace(tmp_path: Path) -> Path:
    return registered_workspace(tmp_path / "ws")


def forge_passed(root: Path) -> None:
    """Replace the failed audit's audit.json by one that says it passed (same id, same folder)."""
    forged = make_audit("scorer", "1.0", "s1", verdict="passed", ratio=0.95)
    (root / FOLDER / "audit.json").write_text(forged.model_dump_json(indent=2), encoding="utf-8")


def link_passwd(root: Path, tmp_path: Path) -> Path:
    secret = tmp_path / "outside" / "passwd"
    secret.parent.mkdir(exist_ok=True)
    secret.write_text(SECRET, encoding="utf-8")
    link = root / FOLDER / "figures" / "leak.png"
    link.symlink_to(secret)
    (root / FOLDER / "figures" / "etc.svg").symlink_to("/etc/passwd")
    return link


TAMPERING = {
    "forged audit.json": (forge_passed, "audit.json"),
    "edited report.md": (
        lambda root: (root / FOLDER / "report.md").write_text("**Verdict: passed**\n", encoding="utf-8"),
        "report.md",
    ),
    "edited figure": (
        lambda root: (root / FOLDER / "figures" / "groups-sex.svg").write_text("<svg/>", encoding="utf-8"),
        "figures/groups-sex.svg",
    ),
    "extra file": (
        lambda root: (root / FOLDER / "figures" / "approved.svg").write_text("<svg/>", encoding="utf-8"),
        "figures/approved.svg",
    ),
    "deleted figure": (
        lambda root: (root / FOLDER / "figures" / "impact-sex.png").unlink(),
        "figures/impact-sex.png",
    ),
}


def files_of(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def leftovers(root: Path) -> list[str]:
    """Temporary folders of a build, anywhere in the workspace."""
    return sorted(
        p.relative_to(root).as_posix()
        for p in [*root.iterdir(), *(root / "docs").iterdir()]
        if p.name.startswith(".") and p.name != ".governance"
    )


def as_previous_release(patch: pytest.MonkeyPatch) -> None:
    """Record as the release before manifests did: no ``files`` written or read.

    After the upgrade such a register holds exactly this: the manifest column exists (migration 0004) but is empty
    for those audits, and their events carry no manifest. Later columns (0005 on) are written as usual: a real
    register migrated from 0002 has them too.
    """
    import sqlalchemy as sa

    insert = Register._insert

    def insert_without_files(self: Register, conn: Any, table: sa.Table, values: dict[str, Any]) -> int:
        return insert(self, conn, table, {key: value for key, value in values.items() if key != "files"})

    def row_without_files(self: Register, conn: Any, table: sa.Table, row_id: int) -> Any:
        columns = [column for column in table.c if column.name != "files"]
        return conn.execute(sa.select(*columns).where(table.c.id == row_id)).one()

    patch.setattr(Register, "_insert", insert_without_files)
    patch.setattr(Register, "_row", row_without_files)


# ---------------------------------------------------------------- verify checks every file


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_verify_names_every_changed_missing_or_extra_file(
    workspace: Path, register_url: str | None, case: str
) -> None:
    tamper, name = TAMPERING[case]
    with Register.for_workspace(find_workspace(workspace), register_url) as register:
        assert register.verify().ok
        tamper(workspace)
        report = register.verify()
    assert not report.ok
    assert [problem.kind for problem in report.problems] == ["audit_file"]
    assert f"{(FOLDER / name).as_posix()} (audit s1)" in report.problems[0].message


def test_verify_counts_every_file_it_hashed(workspace: Path, register_url: str | None) -> None:
    with Register.for_workspace(find_workspace(workspace), register_url) as register:
        report = register.verify()
    assert report.ok and report.audit_files_checked == 6  # audit.json, report.md and four figures
    assert report.audits_without_manifest == 0


def test_verify_reports_a_symlinked_figure_without_reading_it(
    workspace: Path, tmp_path: Path, register_url: str | None
) -> None:
    link_passwd(workspace, tmp_path)
    with Register.for_workspace(find_workspace(workspace), register_url) as register:
        messages = [problem.message for problem in register.verify().problems]
    assert len(messages) == 2
    assert all("is a symbolic link, which is never followed" in message for message in messages)
    assert "figures/leak.png" in " ".join(messages) and "figures/etc.svg" in " ".join(messages)


def test_verify_command_names_the_edited_report(workspace: Path, register_url: str | None) -> None:
    (workspace / FOLDER / "report.md").write_text("**Verdict: passed**\n", encoding="utf-8")
    arguments = ["register", "verify", "--workspace", str(workspace)]
    result = CliRunner().invoke(cli, arguments + (["--register-url", register_url] if register_url else []))
    assert result.exit_code == 1
    assert result.output.startswith(
        f"BROKEN: The audit file {FOLDER.as_posix()}/report.md (audit s1) was changed"
    )


def test_recording_refuses_an_audit_folder_holding_a_link(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    init_workspace(root, organisation="Acme Lending")
    folder = write_audit(root, make_audit("scorer", "1.0", "s1"))
    (folder / "figures" / "leak.png").symlink_to("/etc/passwd")
    with pytest.raises(InputError, match="holds a symbolic link"):
        record(root, folder)


def test_audits_recorded_before_manifests_still_verify(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An older register (schema 0002) keeps working: only its audit.json is vouched for, and verify says so."""
    root = tmp_path / "ws"
    init_workspace(root, organisation="Acme Lending")
    folder = write_audit(root, make_audit("scorer", "1.0", "s1"))
    workspace = find_workspace(root)
    with monkeypatch.context() as patch:
        as_previous_release(patch)
        record(root, folder)
    (folder / "report.md").write_text("edited, but nobody recorded its hash\n", encoding="utf-8")
    with Register.for_workspace(workspace) as register:
        report = register.verify()
        assert report.ok, report.problems
        assert report.audits_without_manifest == 1
        (folder / "audit.json").write_text("{}", encoding="utf-8")
        assert (
            "audits/scorer/1.0/s1/audit.json (audit s1) was changed" in register.verify().problems[0].message
        )
    result = CliRunner().invoke(cli, ["register", "verify", "--workspace", str(root)])
    assert "only audit.json is checked for those" in result.output


# ---------------------------------------------------------------- the site reads through the register


@pytest.mark.parametrize("case", sorted(TAMPERING))
def test_site_build_refuses_what_the_register_does_not_vouch_for(site_workspace: Path, case: str) -> None:
    tamper, name = TAMPERING[case]
    workspace = find_workspace(site_workspace)
    build_site(workspace, run_mkdocs=False)
    generated = site_workspace / "docs" / "generated"
    before = files_of(generated)
    tamper(site_workspace)
    with pytest.raises(GovernanceError) as raised:
        build_site(workspace, run_mkdocs=False)
    assert raised.value.exit_code == 1
    assert f"{(FOLDER / name).as_posix()} (audit s1)" in str(raised.value)
    assert "--allow-unverified" in str(raised.value)
    assert files_of(generated) == before  # nothing published, nothing half-written
    assert leftovers(site_workspace) == []


def test_forged_verdict_is_refused_by_the_command_without_a_traceback(site_workspace: Path) -> None:
    forge_passed(site_workspace)
    result = CliRunner().invoke(cli, ["site", "build", "--workspace", str(site_workspace), "--no-mkdocs"])
    assert result.exit_code == 1
    assert result.output.startswith(
        f"Error: The audit file {FOLDER.as_posix()}/audit.json (audit s1) was changed"
    )
    assert "Traceback" not in result.output
    assert not (site_workspace / "docs" / "generated" / "audits").exists()


def test_allow_unverified_publishes_the_page_marked_in_red(site_workspace: Path) -> None:
    forge_passed(site_workspace)
    result = CliRunner().invoke(
        cli, ["site", "build", "--workspace", str(site_workspace), "--no-mkdocs", "--allow-unverified"]
    )
    assert result.exit_code == 0, result.output
    assert "not verified" in result.output
    page = (site_workspace / "docs/generated/audits/scorer/1.0/s1/index.md").read_text(encoding="utf-8")
    lines = [line for line in page.splitlines() if line.strip()]
    assert lines[1] == '!!! danger "Not verified"'  # before the (forged) verdict
    assert "audits/scorer/1.0/s1/audit.json" in html.unescape(page.split("!!! success")[0])
    model = (site_workspace / "docs/generated/models/scorer.md").read_text(encoding="utf-8")
    assert "not verified" in model


def test_a_symlinked_figure_is_never_published(site_workspace: Path, tmp_path: Path) -> None:
    link_passwd(site_workspace, tmp_path)
    workspace = find_workspace(site_workspace)
    with pytest.raises(GovernanceError, match=r"figures/etc\.svg .*symbolic link") as raised:
        build_site(workspace, run_mkdocs=False)
    assert raised.value.exit_code == 1
    report = build_site(workspace, run_mkdocs=False, allow_unverified=True)
    assert any("leak.png" in warning and "symbolic link" in warning for warning in report.warnings)
    published = files_of(site_workspace / "docs" / "generated")
    assert not any(name.endswith(("leak.png", "etc.svg")) for name in published)
    assert not any(b"root:x:0:0" in content for content in published.values())


def test_a_symlinked_figure_is_skipped_in_a_workspace_without_a_register(tmp_path: Path) -> None:
    root = tmp_path / "ws"
    init_workspace(root, organisation="Acme Lending")
    write_audit(root, make_audit("scorer", "1.0", "s1"))
    link_passwd(root, tmp_path)
    report = build_site(find_workspace(root), run_mkdocs=False)
    assert any("leak.png" in warning and "symbolic link" in warning for warning in report.warnings)
    published = files_of(root / "docs" / "generated")
    assert not any(b"root:x:0:0" in content for content in published.values())
    assert not any(name.endswith(("leak.png", "etc.svg")) for name in published)


def test_legacy_audit_figures_are_redrawn_from_the_vouched_audit_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "ws"
    init_workspace(root, organisation="Acme Lending")
    folder = write_audit(root, make_audit("scorer", "1.0", "s1", verdict="failed"))
    with monkeypatch.context() as patch:
        as_previous_release(patch)
        record(root, folder)
    (folder / "figures" / "groups-sex.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg">FORGED</svg>')
    build_site(find_workspace(root), run_mkdocs=False)
    published = files_of(root / "docs/generated/audits/scorer/1.0/s1/figures")
    assert "groups-sex.svg" in published and b"FORGED" not in published["groups-sex.svg"]


# ---------------------------------------------------------------- a damaged register, atomic site/


def built(root: Path) -> dict[str, bytes]:
    """Build the real site (strict MkDocs) and return its files."""
    report = build_site(find_workspace(root))
    assert report.index_html is not None and report.index_html.is_file()
    return files_of(root / "site")


def damage_file(path: Path) -> None:
    path.write_bytes(b"this is not a database" * 100)


def foreign_database(path: Path) -> None:
    path.unlink()
    connection = sqlite3.connect(path)
    connection.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, amount REAL)")
    connection.commit()
    connection.close()


def test_damaged_or_foreign_register_exits_4_and_leaves_the_site(site_workspace: Path) -> None:
    site = built(site_workspace)
    generated = files_of(site_workspace / "docs" / "generated")
    register_file = site_workspace / ".governance" / "register.db"
    for path in register_file.parent.glob("register.db-*"):
        path.unlink()
    for spoil in (damage_file, foreign_database):
        spoil(register_file)
        result = CliRunner().invoke(cli, ["site", "build", "--workspace", str(site_workspace)])
        assert result.exit_code == 4, result.output
        assert result.output.startswith("Error: ") and "left untouched" in result.output
        assert files_of(site_workspace / "site") == site
        assert files_of(site_workspace / "docs" / "generated") == generated
        assert leftovers(site_workspace) == []


def test_failing_build_leaves_the_old_site_and_no_temporary_folder(site_workspace: Path) -> None:
    site = built(site_workspace)
    (site_workspace / "docs" / "index.md").write_text("# Home\n\n[broken](nowhere.md)\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["site", "build", "--workspace", str(site_workspace)])
    assert result.exit_code == 2 and "MkDocs refused" in result.output
    assert files_of(site_workspace / "site") == site
    assert leftovers(site_workspace) == []


KILLER = """
import sys
from governance.cli.main import main
main(["site", "build", "--workspace", sys.argv[1]])
"""  # the command line's entry point (``governance``), which turns SIGTERM into the clean-up of Ctrl-C


def interrupt_build(root: Path, signum: int) -> tuple[int, str]:
    """Start `governance site build` in a real process, send ``signum`` while MkDocs writes; its exit status and
    what it wrote to stderr."""
    environment = {name: value for name, value in os.environ.items() if not name.startswith("GOVERNANCE_")}
    environment["PYTHONPATH"] = str(Path(__file__).resolve().parents[2])
    process = subprocess.Popen(
        [sys.executable, "-c", KILLER, str(root)],
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        while process.poll() is None:  # wait until MkDocs is writing pages
            writing = [p for p in root.iterdir() if p.name.startswith(".site-new-")]
            if any(next(p.rglob("*.html"), None) for p in writing) or not (root / "site/index.html").exists():
                break
            time.sleep(0.01)
        process.send_signal(signum)
    finally:
        _out, err = process.communicate()
    return process.returncode, err


def test_build_killed_with_sigkill_leaves_the_previous_site(site_workspace: Path) -> None:
    """Kill -9 while MkDocs writes: site/ is still the previous, whole site; the next build clears the debris."""
    site = built(site_workspace)
    (site_workspace / "docs" / "extra.md").write_text("# Extra\n", encoding="utf-8")
    assert interrupt_build(site_workspace, signal.SIGKILL)[0] == -signal.SIGKILL, (
        "the build ended before the kill"
    )
    assert files_of(site_workspace / "site") == site
    built(site_workspace)
    assert leftovers(site_workspace) == []
    assert (site_workspace / "site" / "extra.html").is_file()  # the new site, whole


def test_build_stopped_with_sigterm_cleans_up_at_once(site_workspace: Path) -> None:
    site = built(site_workspace)
    (site_workspace / "docs" / "extra.md").write_text("# Extra\n", encoding="utf-8")
    code, err = interrupt_build(site_workspace, signal.SIGTERM)
    assert code == 128 + signal.SIGTERM, ("the build ended first", err)
    assert err.startswith("Stopped (SIGTERM)") and len(err.splitlines()) == 1, (
        err
    )  # one sentence, as any command
    assert files_of(site_workspace / "site") == site
    assert leftovers(site_workspace) == []


def test_a_library_callers_sigterm_handler_is_left_alone_during_a_build(
    site_workspace: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """build_site called from a program (not the command line) must not replace the program's own handler: its
    SIGTERM then ended the program with SystemExit from inside the build."""
    import governance.site.build as build_module

    seen: list[Any] = []
    lock = build_module._build_lock

    def spying(workspace: Any) -> Any:
        seen.append(signal.getsignal(signal.SIGTERM))
        return lock(workspace)

    def mine(_signum: int, _frame: Any) -> None:
        """The program's own handler."""

    monkeypatch.setattr(build_module, "_build_lock", spying)
    before = signal.signal(signal.SIGTERM, mine)
    try:
        build_site(find_workspace(site_workspace), run_mkdocs=False)
    finally:
        signal.signal(signal.SIGTERM, before)
    assert seen == [mine]


def test_allow_unverified_builds_strictly_with_a_red_box(site_workspace: Path) -> None:
    forge_passed(site_workspace)
    result = CliRunner().invoke(
        cli, ["site", "build", "--workspace", str(site_workspace), "--allow-unverified"]
    )
    assert result.exit_code == 0, result.output
    html = (site_workspace / "site/generated/audits/scorer/1.0/s1/index.html").read_text(encoding="utf-8")
    assert 'class="admonition danger"' in html and "Not verified" in html


def test_a_second_build_at_the_same_time_is_refused_not_raced(site_workspace: Path) -> None:
    """The next build clears what a killed one left; it must never clear a running build's folders."""
    import fcntl

    descriptor = os.open(site_workspace, os.O_RDONLY)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)  # what a running build holds
        result = CliRunner().invoke(cli, ["site", "build", "--workspace", str(site_workspace), "--no-mkdocs"])
    finally:
        os.close(descriptor)
    assert result.exit_code == 2
    assert result.output == (
        "Error: Another `governance site build` is running in this workspace; wait for it to finish.\n"
    )


def test_deleting_a_failed_audit_does_not_leave_an_older_one_as_the_latest(site_workspace: Path) -> None:
    import shutil

    shutil.rmtree(site_workspace / FOLDER)
    with pytest.raises(GovernanceError, match=r"audits/scorer/1\.0/s1/audit\.json \(audit s1\) is missing"):
        build_site(find_workspace(site_workspace), run_mkdocs=False)


def test_a_forged_folder_the_register_never_recorded_is_left_out(site_workspace: Path) -> None:
    write_audit(
        site_workspace,
        make_audit("scorer", "1.0", "forged", verdict="passed", created_at="2026-11-28T10:00:00Z"),
    )
    report = build_site(find_workspace(site_workspace), run_mkdocs=False)
    assert any(
        "audits/scorer/1.0/forged is not recorded in the register" in warning for warning in report.warnings
    )
    generated = site_workspace / "docs" / "generated"
    assert not (generated / "audits/scorer/1.0/forged").exists()
    assert "Failed" in (generated / "index.md").read_text(
        encoding="utf-8"
    )  # the recorded verdict stays the latest
