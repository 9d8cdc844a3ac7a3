"""Every input error is one sentence and exit 2, never a traceback (issue 10, point 8).

Found by an attacker: ``--seed -1``, a policy or ``governance.yaml`` not saved as UTF-8, ``min_cell_size: abc``;
and by a sweep of the other options: ``--threshold nan``, a probability threshold above 1, ``--n-boot`` beyond
the policies' own limit, and workspace checklists not in UTF-8.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from security_support import make_workspace, one_error_line, run

AUDIT = (
    "audit",
    "m@1",
    "--no-register",
    "--model",
    "model.skops",
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
    "--quiet",
)


@pytest.fixture
def workspace(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = make_workspace(tmp_path / "ws")
    monkeypatch.chdir(root)
    return root


def _no_audit_written(workspace: Path) -> bool:
    return not (workspace / "audits").exists() or not any((workspace / "audits").rglob("audit.json"))


@pytest.mark.parametrize("seed", ["-1", "-4294967296", "4294967296", "99999999999999999999999"])
def test_a_seed_numpy_cannot_use_is_one_sentence(workspace: Path, seed: str) -> None:
    result = run(workspace, *AUDIT, "--seed", seed)
    assert result.exit_code == 2, result.output
    assert "--seed" in one_error_line(result)
    assert _no_audit_written(workspace)
    explained = run(
        workspace, "explain", "--model", "model.skops", "--data", "holdout.csv", "--seed", seed, "--row", "0"
    )
    assert explained.exit_code == 2, explained.output
    assert "--seed" in one_error_line(explained)


@pytest.mark.parametrize("threshold", ["nan", "inf", "1.5", "-0.2"])
def test_a_threshold_no_probability_can_meet_is_one_sentence(workspace: Path, threshold: str) -> None:
    result = run(workspace, *AUDIT, "--threshold", threshold)
    assert result.exit_code == 2, result.output
    assert "--threshold" in one_error_line(result)
    assert _no_audit_written(workspace)


def test_more_resamples_than_a_policy_may_ask_for_is_one_sentence(workspace: Path) -> None:
    result = run(workspace, *AUDIT[:-3], "--n-boot", "1000000000")
    assert result.exit_code == 2, result.output
    assert "--n-boot" in one_error_line(result)


def test_a_policy_not_in_utf8_is_named_with_the_fix(workspace: Path) -> None:
    policy = workspace / "latin.yaml"
    policy.write_bytes("name: café\nrules: []\n".encode("latin-1"))
    result = run(workspace, *AUDIT, "--policy", str(policy))
    assert result.exit_code == 2, result.output
    line = one_error_line(result)
    assert "latin.yaml" in line and "UTF-8" in line
    assert _no_audit_written(workspace)


@pytest.mark.parametrize("command", [("register", "list"), ("status",), ("checklist", "list"), AUDIT])
def test_a_governance_yaml_not_in_utf8_is_named_with_the_fix(
    workspace: Path, command: tuple[str, ...]
) -> None:
    (workspace / "governance.yaml").write_bytes("organisation:\n  name: Société Générale\n".encode("latin-1"))
    result = run(workspace, *command)
    assert result.exit_code == 2, result.output
    line = one_error_line(result)
    assert "governance.yaml" in line and "save it as UTF-8" in line


def test_a_checklist_not_in_utf8_is_named_with_the_fix(workspace: Path) -> None:
    folder = workspace / "policies" / "checklists"
    folder.mkdir(parents=True)
    (folder / "ours.yaml").write_bytes("framework: ours\ntitle: Contrôle\n".encode("latin-1"))
    result = run(workspace, "checklist", "list")
    assert result.exit_code == 2, result.output
    assert "ours.yaml" in result.output and "UTF-8" in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    ("setting", "named"),
    [
        ("site:\n  min_cell_size: abc\n", "site.min_cell_size"),
        ("site:\n  min_cell_size: 0\n", "site.min_cell_size"),
        ("site:\n  min_cell_size: true\n", "site.min_cell_size"),
        ("site: 5\n", "site"),
        ("organisation: Test Co\n", "organisation"),
        ("organisation:\n  name: [a, b]\n", "organisation.name"),
        ("register: sqlite\n", "register"),
        ("register:\n  url: 5\n", "register.url"),
        ("models: [credit-risk]\n", "models"),
        ("policies:\n  review_interval_months: often\n", "policies.review_interval_months"),
    ],
)
def test_a_wrongly_typed_setting_is_named(workspace: Path, setting: str, named: str) -> None:
    (workspace / "governance.yaml").write_text(setting, encoding="utf-8")
    for command in (("register", "list"), ("site", "build"), ("status",)):
        result = run(workspace, *command)
        assert result.exit_code == 2, (command, result.output)
        line = one_error_line(result)
        assert f"{named} " in line and "governance.yaml" in line, line


def test_a_number_of_days_beyond_any_date_is_refused(workspace: Path) -> None:
    result = run(workspace, "status", "--within-days", "99999999999")
    assert result.exit_code == 2, result.output
    assert "--within-days" in result.output and "Traceback" not in result.output


@pytest.mark.parametrize(
    "command",
    [
        ("register", "export", "--output", "holdout.csv/export.json"),
        (
            "explain",
            "--model",
            "model.skops",
            "--data",
            "holdout.csv",
            "--sensitive",
            "group",
            "--batch",
            "holdout.csv/reasons.csv",
        ),
        (
            "explain",
            "--model",
            "model.skops",
            "--data",
            "holdout.csv",
            "--explain-rows",
            "20",
            "--output",
            "holdout.csv/explanation",
        ),
        (*AUDIT, "--output", "holdout.csv/audits"),
    ],
    ids=["register-export", "explain-batch", "explain-output", "audit-output"],
)
def test_an_output_path_that_cannot_be_written_is_one_sentence(
    workspace: Path, command: tuple[str, ...]
) -> None:
    """A file where a folder should be (as root, permissions would not stop anything): exit 2, one sentence."""
    assert run(workspace, "register", "add", "m", "--owner", "o@x", "--purpose", "p").exit_code == 0
    result = run(workspace, *command)
    assert result.exit_code == 2, result.output
    line = one_error_line(result)
    assert "holdout.csv" in line, line


def test_a_policy_template_not_in_utf8_fails_the_site_build_by_name(workspace: Path) -> None:
    assert run(workspace, "init", str(workspace)).exit_code == 0
    template = next((workspace / "policies" / "templates").glob("*.md"))
    template.write_bytes(template.read_bytes() + "\nRévisée par la direction.\n".encode("latin-1"))
    result = run(workspace, "site", "build", "--no-mkdocs")
    assert result.exit_code == 1, result.output
    assert template.name in result.output and "UTF-8" in result.output
    assert "Traceback" not in result.output
