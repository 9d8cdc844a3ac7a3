"""Found by the issue-10 review: ways the site published or hid an audit while ``verify`` said OK.

- A signed register read without its key (a site build job that has no secret): ``verify`` says NOT CHECKED
  (exit 3), but the site marked every page as vouched for and exited 0, so a history rewritten by someone without
  the key (every hash recomputed, the audit's recorded hashes swapped for a forged ``audit.json``) was published as
  the model's verdict.
- A recorded audit folder replaced by a symbolic link to an identical copy: ``verify`` followed the link and said
  OK; the site never entered the link, took the folder for one "kept outside audits/" and left the audit (a failed
  verdict) off the site without a word.
- A folder under ``audits/`` whose ``audit.json`` is a link to a recorded one was not an orphan: ``verify`` resolved
  the link and took it for the recorded audit.
- An audit recorded for one model whose ``audit.json`` names another was published on the other model's page,
  as verified.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa
from click.testing import CliRunner, Result

from governance.cli.main import cli
from governance.provenance import canonical_json, sha256_bytes
from governance.register import Register
from governance.register import schema as t
from governance.register.chain import HMAC_ENV, event_hash
from governance.scaffold import init_workspace
from governance.workspace import find_workspace
from tests.register.register_support import fresh_postgres_database
from tests.site.conftest import make_audit, write_audit

FOLDER = Path("audits/scorer/1.0/s1")
KEY = "the register's secret key"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def register_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ws' / '.governance' / 'register.db'}"
    else:
        yield from fresh_postgres_database()


def record(root: Path, url: str, folder: Path, *, model: str = "scorer", audit_id: str = "s1") -> None:
    """Register MODEL@1.0 (once) and record the audit in ``folder`` as the audit command does."""
    artefact = root / f"{model}.skops"
    with Register.for_workspace(find_workspace(root), url) as register:
        if not artefact.exists():
            artefact.write_bytes(f"model {model}".encode())
            register.add_model(model, owner="ana@example.com", purpose="Score leads", actor="ana@example.com")
            register.add_version(model, "1.0", artifact_path=artefact, actor="ana@example.com")
        register.record_audit(
            model, "1.0", audit_id=audit_id, audit_json_path=folder / "audit.json", verdict="failed",
            policy_name="default", policy_sha256="ef" * 32, data_sha256="cd" * 32,
            artifact_sha256=register.resolve_version(model, "1.0").sha256, tool_versions={},
            actor="carl@example.com", max_age_days=365,
        )  # fmt: skip


@pytest.fixture
def workspace(tmp_path: Path, register_url: str, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A workspace with one recorded audit that failed its policy; ``GOVERNANCE_REGISTER_URL`` points at it."""
    for variable in ("GOVERNANCE_ACTOR", "GOVERNANCE_WORKSPACE", HMAC_ENV):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("GOVERNANCE_REGISTER_URL", register_url)
    root = tmp_path / "ws"
    init_workspace(root, organisation="Acme Lending")
    folder = write_audit(root, make_audit("scorer", "1.0", "s1", verdict="failed", ratio=0.62))
    (folder / "report.md").write_text("# Audit of scorer 1.0\n\n**Verdict: failed**\n", encoding="utf-8")
    return root


def build(root: Path, *extra: str) -> Result:
    return CliRunner().invoke(cli, ["site", "build", "--workspace", str(root), "--no-mkdocs", *extra])


def verify(root: Path) -> Result:
    return CliRunner().invoke(cli, ["register", "verify", "--workspace", str(root)])


def published(root: Path) -> str:
    generated = root / "docs" / "generated"
    return "\n".join(p.read_text(encoding="utf-8") for p in sorted(generated.rglob("*.md")))


def rewrite_without_key(url: str, root: Path) -> None:
    """What someone with database access but no key does: forge audit.json, point the audit row and its event at
    it, recompute every hash after it and the head, and drop the signatures they cannot make."""
    forged = (
        make_audit("scorer", "1.0", "s1", verdict="passed", ratio=0.95).model_dump_json(indent=2).encode()
    )
    (root / FOLDER / "audit.json").write_bytes(forged)
    digest = sha256_bytes(forged)
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        audit = conn.execute(sa.select(t.audits)).one()
        files = dict(audit.files if isinstance(audit.files, dict) else json.loads(audit.files))
        files["audit.json"] = digest
        conn.execute(sa.update(t.audits).values(audit_json_sha256=digest, files=files))
        previous = t.GENESIS_HASH
        for event in conn.execute(sa.select(t.events).order_by(t.events.c.seq)).all():
            payload = json.loads(event.payload)
            for entry in payload.get("rows", []):
                if entry["table"] == "gov_audits":
                    entry["record"].update(audit_json_sha256=digest, files=files)
            payload = json.loads(canonical_json(payload))
            new_hash = event_hash(seq=event.seq, at=event.at, actor=event.actor, kind=event.kind,
                                  model_name=event.model_name, version=event.version, payload=payload,
                                  prev_hash=previous, identity=event.identity)  # fmt: skip
            conn.execute(
                sa.update(t.events).where(t.events.c.seq == event.seq)
                .values(payload=canonical_json(payload), prev_hash=previous, hash=new_hash, hmac=None)
            )  # fmt: skip
            previous = new_hash
        conn.execute(sa.update(t.chain_head).values(hash=previous, hmac=None))
    engine.dispose()


def test_a_signed_register_read_without_its_key_vouches_for_nothing_on_the_site(
    workspace: Path, register_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HMAC_ENV, KEY)
    record(workspace, register_url, workspace / FOLDER)
    assert verify(workspace).exit_code == 0
    rewrite_without_key(register_url, workspace)
    assert verify(workspace).exit_code == 1  # with the key, the rewrite shows
    monkeypatch.delenv(HMAC_ENV)
    assert verify(workspace).exit_code == 3  # without it, nothing is vouched for
    before = published(workspace)
    result = build(workspace)
    assert result.exit_code == 1, result.output
    assert HMAC_ENV in result.output
    assert published(workspace) == before  # nothing was replaced
    allowed = build(workspace, "--allow-unverified")
    assert allowed.exit_code == 0, allowed.output
    assert "Not verified" in published(workspace)


def test_a_signed_register_read_with_its_key_is_published(
    workspace: Path, register_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(HMAC_ENV, KEY)
    record(workspace, register_url, workspace / FOLDER)
    result = build(workspace)
    assert result.exit_code == 0, result.output
    assert "Not verified" not in published(workspace)


def test_a_recorded_audit_folder_swapped_for_a_link_is_neither_ok_nor_hidden(
    workspace: Path, register_url: str, tmp_path: Path
) -> None:
    record(workspace, register_url, workspace / FOLDER)
    copy = tmp_path / "elsewhere" / "s1"
    shutil.copytree(workspace / FOLDER, copy)
    shutil.rmtree(workspace / FOLDER)
    (workspace / FOLDER).symlink_to(copy, target_is_directory=True)
    checked = verify(workspace)
    assert checked.exit_code == 1, checked.output
    assert "symbolic link" in checked.output
    result = build(workspace)
    assert result.exit_code == 1, result.output
    assert "s1" in result.output


def test_a_whole_model_folder_swapped_for_a_link_is_not_hidden_either(
    workspace: Path, register_url: str, tmp_path: Path
) -> None:
    record(workspace, register_url, workspace / FOLDER)
    shutil.move(workspace / "audits" / "scorer", tmp_path / "scorer")
    (workspace / "audits" / "scorer").symlink_to(tmp_path / "scorer", target_is_directory=True)
    assert verify(workspace).exit_code == 1
    result = build(workspace)
    assert result.exit_code == 1, result.output


def test_a_folder_whose_audit_json_links_to_a_recorded_one_is_an_orphan(
    workspace: Path, register_url: str
) -> None:
    record(workspace, register_url, workspace / FOLDER)
    stray = workspace / "audits" / "scorer" / "1.0" / "s2"
    stray.mkdir()
    (stray / "audit.json").symlink_to(workspace / FOLDER / "audit.json")
    (stray / "report.md").write_text("**Verdict: passed**\n", encoding="utf-8")
    checked = verify(workspace)
    assert checked.exit_code == 1, checked.output
    assert "audits/scorer/1.0/s2 is not recorded" in checked.output


def test_an_audit_recorded_for_one_model_is_not_published_as_another_models(
    workspace: Path, register_url: str
) -> None:
    """The register vouches for the files of toy@1.0's audit; the audit.json in them speaks of scorer."""
    folder = workspace / "audits" / "toy" / "1.0" / "t1"
    shutil.copytree(workspace / FOLDER, folder)
    record(workspace, register_url, folder, model="toy", audit_id="t1")
    shutil.rmtree(workspace / "audits" / "scorer")
    assert verify(workspace).exit_code == 0
    result = build(workspace)
    assert result.exit_code == 1, result.output
    assert "t1" in result.output
