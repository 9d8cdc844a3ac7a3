"""`governance checklist list|answer|status|validate` with a real SQLite register in a temporary workspace."""

from __future__ import annotations

from pathlib import Path

import pytest
from checklist_support import build_audit
from click.testing import CliRunner

from governance.cli.main import cli
from governance.provenance import sha256_file
from governance.register import Register
from governance.workspace import Workspace


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty workspace (shipped checklists) with one model registered as a high-risk hiring tool."""
    monkeypatch.delenv("GOVERNANCE_REGISTER_URL", raising=False)
    monkeypatch.delenv("GOVERNANCE_WORKSPACE", raising=False)
    (tmp_path / "governance.yaml").write_text("organisation:\n  name: Test Ltd\n", encoding="utf-8")
    with Register.for_workspace(Workspace(root=tmp_path, config={})) as register:
        register.add_model(
            "hiring",
            owner="ana@example.com",
            purpose="Rank applicants",
            actor="ana",
            decision_domain="employment",
            is_aedt=True,
            is_annex_iii_high_risk=True,
            solely_automated=False,
        )
    return tmp_path


def run(*args: str, workspace: Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, [*args, "--workspace", str(workspace)])
    return result.exit_code, result.stdout, result.stderr


def test_list_shows_items_and_how_they_are_evidenced(workspace: Path) -> None:
    code, out, _ = run("checklist", "list", "--framework", "nyc-ll144", workspace=workspace)
    assert code == 0
    assert out.splitlines()[0] == (
        "NYC Local Law 144: automated employment decision tools [nyc-ll144]: 10 items, 3 automatic, "
        "7 need a person's answer"
    )
    assert any(
        line.startswith("nyc-ll144.bias-audit-tables") and " automatic " in line for line in out.splitlines()
    )
    assert any(
        line.startswith("nyc-ll144.candidate-notice") and " human " in line for line in out.splitlines()
    )
    code, out, _ = run("checklist", "list", workspace=workspace)
    assert code == 0 and "[eu-ai-act]" in out and "[iso-42001]" in out


def test_an_unknown_framework_is_one_sentence_and_exit_2(workspace: Path) -> None:
    code, out, err = run("checklist", "list", "--framework", "eu", workspace=workspace)
    assert (code, out) == (2, "")
    assert err == (
        "Error: There is no checklist for framework 'eu'; choose one of: eeoc-four-fifths, eu-ai-act, gdpr, "
        "iso-42001, nist-ai-rmf, nyc-ll144.\n"
    )


def test_answer_is_stored_in_the_register_and_counts_in_status(workspace: Path) -> None:
    code, out, _ = run(
        "checklist",
        "answer",
        "hiring",
        "nyc-ll144.candidate-notice",
        "--status",
        "yes",
        "--evidence",
        "Notice on careers page since 2026-10-01",
        "--actor",
        "ben",
        workspace=workspace,
    )
    assert code == 0
    assert out == (
        "Recorded for hiring: nyc-ll144.candidate-notice (Candidates and employees notified 10 business days "
        "ahead) = yes, by ben.\n"
    )
    with Register.for_workspace(Workspace(root=workspace, config={})) as register:
        [stored] = register.checklist_answers("hiring")
    assert (stored.framework, stored.item_id, stored.status, stored.actor) == (
        "nyc-ll144",
        "nyc-ll144.candidate-notice",
        "yes",
        "ben",
    )
    code, out, _ = run("checklist", "status", "hiring", "--framework", "nyc-ll144", workspace=workspace)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Checklist status of hiring (no audit yet)."
    assert lines[4] == "nyc-ll144    1     3             6    0"
    assert (
        "  met                  nyc-ll144.candidate-notice  Candidates and employees notified 10 business "
        "days ahead" in lines
    )


def test_an_unknown_item_or_model_is_exit_2_and_stores_nothing(workspace: Path) -> None:
    code, _, err = run(
        "checklist",
        "answer",
        "hiring",
        "nyc-ll144.candidate-notise",
        "--status",
        "yes",
        "--evidence",
        "x",
        workspace=workspace,
    )
    assert code == 2
    assert err == (
        "Error: There is no checklist item 'nyc-ll144.candidate-notise'; did you mean "
        "nyc-ll144.candidate-notice?\n"
    )
    code, _, err = run(
        "checklist",
        "answer",
        "nobody",
        "nyc-ll144.candidate-notice",
        "--status",
        "yes",
        "--evidence",
        "x",
        workspace=workspace,
    )
    assert code == 2 and err.startswith("Error: No model named 'nobody'")
    code, _, err = run(
        "checklist",
        "answer",
        "hiring",
        "nyc-ll144.candidate-notice",
        "--status",
        "maybe",
        "--evidence",
        "x",
        workspace=workspace,
    )
    assert code == 2 and "'maybe' is not one of" in err
    code, _, err = run(
        "checklist",
        "answer",
        "hiring",
        "nyc-ll144.candidate-notice",
        "--status",
        "yes",
        "--evidence",
        "  ",
        workspace=workspace,
    )
    assert code == 2 and err == (
        "Error: --evidence is empty; say what shows the answer (a document, a link, a decision).\n"
    )
    with Register.for_workspace(Workspace(root=workspace, config={})) as register:
        assert register.checklist_answers("hiring") == []


def test_a_yes_on_an_automatic_item_does_not_tick_it(workspace: Path) -> None:
    code, _, err = run(
        "checklist",
        "answer",
        "hiring",
        "nyc-ll144.bias-audit-tables",
        "--status",
        "yes",
        "--evidence",
        "trust me",
        workspace=workspace,
    )
    assert code == 0 and "only the evidence can mark it met" in err
    code, out, _ = run("checklist", "status", "hiring", "--framework", "nyc-ll144", workspace=workspace)
    assert "  open                 nyc-ll144.bias-audit-tables" in out


def test_status_reads_the_latest_audit_from_the_register(workspace: Path) -> None:
    audit = build_audit(audit_id="audit-1")
    folder = workspace / "audits" / "hiring" / "1.0.0" / "audit-1"
    folder.mkdir(parents=True)
    (folder / "audit.json").write_text(audit.model_dump_json(), encoding="utf-8")
    (workspace / "model.skops").write_bytes(b"not really a model")
    with Register.for_workspace(Workspace(root=workspace, config={})) as register:
        register.add_version("hiring", "1.0.0", artifact_path=workspace / "model.skops", actor="ana")
        register.record_audit(
            "hiring",
            "1.0.0",
            audit_id="audit-1",
            audit_json_path=folder / "audit.json",
            verdict="passed",
            policy_name="default",
            policy_sha256="ef" * 32,
            data_sha256="cd" * 32,
            artifact_sha256=sha256_file(workspace / "model.skops"),
            tool_versions={},
            actor="carl",
            max_age_days=365,
        )
    code, out, err = run("checklist", "status", "hiring", workspace=workspace)
    assert code == 0, err
    assert out.splitlines()[0] == "Checklist status of hiring (latest audit audit-1 (verdict: passed))."
    code, out, _ = run("checklist", "status", "hiring", "--framework", "nyc-ll144", workspace=workspace)
    assert "  met                  nyc-ll144.bias-audit-tables" in out
    (folder / "audit.json").unlink()
    code, out, err = run("checklist", "status", "hiring", "--framework", "nyc-ll144", workspace=workspace)
    assert code == 0 and err.startswith(
        "Warning: The latest audit's file audits/hiring/1.0.0/audit-1/audit.json"
    )
    assert "  open                 nyc-ll144.bias-audit-tables" in out


def test_validate_checks_the_workspace_files(workspace: Path) -> None:
    code, out, _ = run("checklist", "validate", workspace=workspace)
    assert (code, out) == (0, "OK: 6 checklists (138 items) and 11 policy templates.\n")
    folder = workspace / "policies" / "checklists"
    folder.mkdir(parents=True)
    (folder / "mine.yaml").write_text("schema_version: '1.0'\nframework: mine\n", encoding="utf-8")
    code, _, err = run("checklist", "validate", workspace=workspace)
    assert code == 2
    assert f"{folder / 'mine.yaml'} line 1, field (top level): 'title' is a required property" in err
    assert err.splitlines()[-1].startswith("Error: 5 problem(s) in the checklists in")
