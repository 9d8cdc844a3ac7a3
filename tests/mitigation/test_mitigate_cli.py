"""``governance mitigate`` end to end on real registers (SQLite and PostgreSQL): candidates are saved, registered
with their lineage, audited through the register and compared; bad input is one sentence and exit 2."""

from __future__ import annotations

import html
import json
import shutil
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from governance.cli.main import cli
from governance.register import Register

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "register"))
from register_support import People, fresh_postgres_database

FAST = ["--no-explain", "--n-boot", "50"]


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def register_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'ws' / '.governance' / 'register.db'}"
    else:
        yield from fresh_postgres_database()


@pytest.fixture
def workspace(biased_credit: dict[str, Path], register_url: str) -> Path:
    """A workspace with credit@1.0.0 registered (a model that uses sex) and audited on the holdout: it fails."""
    root = biased_credit["root"] / "ws"
    (root / "models").mkdir(parents=True)
    (root / "governance.yaml").write_text("organisation:\n  name: Test Co\n", encoding="utf-8")
    shutil.copy(biased_credit["model"], root / "models" / "credit-1.0.0.skops")
    with Register(register_url, workspace_root=root) as register:
        register.add_model(
            "credit", owner="ana@example.com", purpose="Credit decisions.", actor="ana@example.com"
        )
        register.add_version(
            "credit", "1.0.0", artifact_path="models/credit-1.0.0.skops", actor="ana@example.com"
        )
    code, output = _run(
        root,
        register_url,
        "audit",
        "credit@1.0.0",
        "--data",
        str(biased_credit["holdout"]),
        "--target",
        "label",
        "--sensitive",
        "sex",
        "--quiet",
        *FAST,
    )
    assert code == 1, output
    return root


def _run(root: Path, url: str, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, [*args, "--workspace", str(root), "--register-url", url, "--actor", "ana@example.com"]
    )
    return result.exit_code, result.output


def _mitigate_both_ways(root: Path, url: str, biased_credit: dict[str, Path]) -> tuple[int, str]:
    """credit@1.0.0 mitigated by threshold and by dropping the sensitive columns, on the command line."""
    return _run(
        root,
        url,
        "mitigate",
        "credit@1.0.0",
        "--data",
        str(biased_credit["train"]),
        "--holdout",
        str(biased_credit["holdout"]),
        "--method",
        "threshold",
        "--method",
        "drop-sensitive",
        *FAST,
    )


def test_candidates_are_registered_with_lineage_audited_and_compared(
    workspace: Path, register_url: str, biased_credit: dict[str, Path]
) -> None:
    code, output = _mitigate_both_ways(workspace, register_url, biased_credit)
    assert code in (0, 1, 3), output
    assert "| Version | Method | Verdict | Accuracy |" in output and "Traceback" not in output
    with Register(register_url, workspace_root=workspace) as register:
        detail = register.show("credit")
    versions = {v.version: v for v in detail.versions}
    threshold = versions["1.0.0-threshold"]
    assert threshold.source is not None
    lineage = threshold.source["lineage"]
    assert lineage["mitigated_from"] == "credit@1.0.0" and lineage["method"] == "threshold"
    assert lineage["constraint"] == "demographic_parity" and lineage["seed"] == 0
    assert set(lineage["parameters"]["thresholds"]) == {"female", "male"}
    assert versions["1.0.0-drop-sensitive"].source["lineage"]["parameters"]["dropped"] == ["sex"]
    audited = {a.version for a in detail.audits}
    assert {"1.0.0", "1.0.0-threshold", "1.0.0-drop-sensitive"} <= audited
    shown = (
        CliRunner()
        .invoke(
            cli, ["register", "show", "credit", "--workspace", str(workspace), "--register-url", register_url]
        )
        .output
    )
    assert "mitigated from credit@1.0.0 with threshold (demographic_parity, seed 0)" in shown
    folder = next((workspace / "audits" / "credit" / "1.0.0").glob("mitigation-*"))
    comparison = json.loads((folder / "comparison.json").read_text())
    assert [row["method"] for row in comparison["rows"]] == ["original", "threshold", "drop-sensitive"]
    markdown = (folder / "comparison.md").read_text()
    assert "2000e-2(l)" in markdown and "![" in markdown
    assert (folder / "comparison.svg").exists()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["credit@9.9.9"], "9.9.9"),
        (["credit@1.0.0", "--data", "missing.csv"], "does not exist"),
        (["credit@1.0.0", "--budget", "0"], "--budget must be a positive number"),
        (["credit@1.0.0", "--attribute", "age"], "--attribute age is not one of"),
    ],
)
def test_bad_input_is_one_sentence_and_exit_2(
    workspace: Path, register_url: str, biased_credit: dict[str, Path], args: list[str], words: str
) -> None:
    base = ["--data", str(biased_credit["train"]), "--holdout", str(biased_credit["holdout"]), *FAST]
    code, output = _run(workspace, register_url, "mitigate", *args[:1], *base, *args[1:])
    assert code == 2, output
    assert words in output and "Traceback" not in output
    assert not list((workspace / "audits" / "credit" / "1.0.0").glob("mitigation-*"))


def test_the_time_budget_skips_the_methods_left_and_says_so(
    workspace: Path, register_url: str, biased_credit: dict[str, Path]
) -> None:
    from governance.mitigate.run import MitigationRequest, mitigate
    from governance.workspace import Workspace

    outcome = mitigate(
        MitigationRequest(
            name="credit",
            version="1.0.0",
            data=biased_credit["train"],
            holdout=biased_credit["holdout"],
            methods=("drop-sensitive", "threshold"),
            budget_seconds=1e-9,
            explain=False,
            n_boot=50,
            workspace=Workspace(root=workspace),
            register_url=register_url,
            actor="ana@example.com",
        )
    )
    assert [row.method for row in outcome.rows] == ["original", "drop-sensitive"]
    assert any("time budget" in note and "the method threshold" in note for note in outcome.notes)


def test_a_candidate_identical_to_a_registered_version_is_compared_as_that_version(
    workspace: Path, register_url: str, biased_credit: dict[str, Path]
) -> None:
    import pandas as pd
    from mitigation_support import FEATURES

    from governance.intake.model_files import load_model, save_model
    from governance.mitigate.methods import Training, drop_candidate

    train = pd.read_csv(biased_credit["train"])
    model = load_model(workspace / "models" / "credit-1.0.0.skops").estimator
    training = Training(train[FEATURES], train["label"].to_numpy(), train["sex"], 0, [0, 1], FEATURES)
    save_model(drop_candidate(model, training, ["sex"]).estimator, workspace / "models" / "by-hand.skops")
    with Register(register_url, workspace_root=workspace) as register:
        register.add_version(
            "credit", "by-hand", artifact_path="models/by-hand.skops", actor="ana@example.com"
        )
    code, output = _run(
        workspace,
        register_url,
        "mitigate",
        "credit@1.0.0",
        "--data",
        str(biased_credit["train"]),
        "--holdout",
        str(biased_credit["holdout"]),
        "--method",
        "drop-sensitive",
        *FAST,
    )
    assert code == 3, output  # the original's row only: the twin was never audited
    assert "same model as credit@by-hand" in output and "Traceback" not in output
    assert "| by-hand | drop-sensitive | NOT AUDITED |" in output
    assert not (workspace / "models" / "credit-1.0.0-drop-sensitive.skops").exists()


def test_the_run_is_recorded_and_approving_a_candidate_records_the_choice(
    workspace: Path, register_url: str, biased_credit: dict[str, Path]
) -> None:
    """The run's comparison files are vouched for by the register; approving a candidate records the run it was
    chosen from and the alternatives with their verdicts, which `register show`, the history and the site show."""

    code, output = _mitigate_both_ways(workspace, register_url, biased_credit)
    assert code in (0, 1, 3), output
    folder = next((workspace / "audits" / "credit" / "1.0.0").glob("mitigation-*"))
    with Register(register_url, workspace_root=workspace) as register:
        verdicts = {a.version: a.verdict for a in register.show("credit").audits}
        history = [e.kind for e in register.history("credit")]
    assert "mitigation.recorded" in history
    chosen = "1.0.0-drop-sensitive"
    with People(register_url, workspace) as people:  # on PostgreSQL the approver logs in as their own role
        _approve_and_check(workspace, register_url, people.url("ravi"), folder, verdicts, chosen)


def _approve_and_check(
    workspace: Path, register_url: str, approver_url: str, folder: Path, verdicts: dict[str, str], chosen: str
) -> None:
    from governance.site import build_site
    from governance.workspace import Workspace

    result = CliRunner().invoke(
        cli,
        [
            "register",
            "approve",
            f"credit@{chosen}",
            "--role",
            "risk-officer",
            "--accept-risk",
            "Compared with the other candidates; reviewed by the credit committee.",
            "--workspace",
            str(workspace),
            "--register-url",
            approver_url,
            "--actor",
            "ravi@example.com",
        ],
    )
    assert result.exit_code == 0, result.output
    over = (
        f"1.0.0 (original, {verdicts['1.0.0']}), 1.0.0-threshold (threshold, {verdicts['1.0.0-threshold']})"
    )
    assert f"chosen from mitigation run {folder.name} over: {over}" in result.output
    with Register(register_url, workspace_root=workspace) as register:
        approval = register.show("credit").approvals[-1]
        assert register.verify(workspace).ok
    assert approval.chosen_from is not None
    assert approval.chosen_from["run_id"] == folder.name
    assert approval.chosen_from["alternatives"] == [
        {"version": "1.0.0", "method": "original", "verdict": verdicts["1.0.0"]},
        {"version": "1.0.0-threshold", "method": "threshold", "verdict": verdicts["1.0.0-threshold"]},
    ]
    shown = CliRunner().invoke(
        cli, ["register", "show", "credit", "--workspace", str(workspace), "--register-url", register_url]
    )
    assert f"chosen from mitigation run {folder.name} over: {over}" in shown.output

    space = Workspace(root=workspace)
    build_site(space, run_mkdocs=False, register_url=register_url)
    page = html.unescape((workspace / "docs" / "generated" / "models" / "credit.md").read_text("utf-8"))
    assert "## Mitigation candidates" in page and f"### Run {folder.name}" in page
    assert "| 1.0.0-threshold | threshold |" in page and "2000e-2(l)" in page
    assert f"mitigation run {folder.name} over:" in page and "**Chosen:** 1.0.0-drop-sensitive" in page
    figure = workspace / "docs" / "generated" / "models" / "figures" / f"credit-{folder.name}.svg"
    assert figure.read_bytes() == (folder / "comparison.svg").read_bytes()

    # A comparison changed after it was recorded is not published: the page says so instead.
    document = json.loads((folder / "comparison.json").read_text())
    document["rows"][1]["verdict"] = "passed"
    (folder / "comparison.json").write_text(json.dumps(document))
    with Register(register_url, workspace_root=workspace) as register:
        report_after = register.verify(workspace)
    assert not report_after.ok
    assert any(
        f"{folder.name}/comparison.json of mitigation run {folder.name} was changed" in problem.message
        for problem in report_after.problems
    )
    report = build_site(space, run_mkdocs=False, register_url=register_url)
    page = html.unescape((workspace / "docs" / "generated" / "models" / "credit.md").read_text("utf-8"))
    assert "Not verified" in page and "comparison.json was changed" in page
    assert "| 1.0.0-threshold | threshold |" not in page
    assert any("was not published" in warning for warning in report.warnings)
