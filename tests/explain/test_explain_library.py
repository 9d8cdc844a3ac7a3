"""``governance explain``'s logic is a library (``governance.audit.explain_run``) that a Python caller can use
without the command line; the command only parses options, shows the one progress bar and prints."""

from __future__ import annotations

import ast
import csv
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from governance.audit.explain_run import (
    ExplainInputs,
    ExplainOptions,
    explain_to_folder,
    load_inputs,
    reasons,
    write_reasons_csv,
)
from governance.cli._common import ProgressBars, cli_message
from governance.errors import FieldError
from governance.intake.model_files import save_model

PACKAGE = Path(__file__).resolve().parents[2] / "governance"


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> ExplainInputs:
    folder = tmp_path_factory.mktemp("explain-library")
    rng = np.random.default_rng(2)
    n = 200
    frame = pd.DataFrame(
        {
            "applicant_id": [f"A{i:03d}" for i in range(n)],
            "housing": rng.choice(["own", "rent"], size=n),
            "duration": rng.integers(6, 60, size=n),
            "sex": rng.choice(["female", "male"], size=n),
        }
    )
    frame["good"] = ((frame["housing"] == "own") * 1.0 - 0.03 * frame["duration"] > -0.6).astype(int)
    frame.to_csv(folder / "holdout.csv", index=False)
    model = make_pipeline(
        make_column_transformer((OneHotEncoder(), ["housing"]), (StandardScaler(), ["duration"])),
        LogisticRegression(),
    ).fit(frame[["housing", "duration"]], frame["good"])
    save_model(model, folder / "model.skops")
    return ExplainInputs(
        model=folder / "model.skops",
        data=folder / "holdout.csv",
        sensitive=["sex"],
        target="good",
        id_column="applicant_id",
    )


def test_a_python_caller_explains_and_writes_the_files(files: ExplainInputs, tmp_path: Path) -> None:
    loaded = load_inputs(files)
    assert loaded.names == ["housing", "duration"]
    stages: list[tuple[str, int, int]] = []
    written = explain_to_folder(
        loaded,
        ExplainOptions(budget_seconds=20),
        tmp_path / "out",
        progress=lambda *step: stages.append(step),
    )
    assert json.loads(written.json.read_text())["features"] == ["housing", "duration"]
    assert written.markdown.read_text().startswith("# Explainability")
    assert stages and {stage for stage, _, _ in stages} == {"explain"}


def test_reason_codes_by_id_and_as_csv(files: ExplainInputs, tmp_path: Path) -> None:
    loaded = load_inputs(files)
    one = reasons(loaded, ExplainOptions(max_reasons=2), row="A007")
    assert len(one) == 1 and one[0].row == "A007"
    every = reasons(loaded, ExplainOptions(max_reasons=2))
    write_reasons_csv(every, tmp_path / "r.csv", max_reasons=2, id_name="applicant_id")
    header = next(csv.reader((tmp_path / "r.csv").open()))
    assert header == ["applicant_id", "decision", "score", "reason_1", "reason_2", "statement"]


def test_a_row_that_is_not_there_names_the_field_and_the_cli_names_the_option(files: ExplainInputs) -> None:
    loaded = load_inputs(files)
    with pytest.raises(FieldError) as caught:
        reasons(loaded, ExplainOptions(), row="nobody")
    assert str(caught.value) == "No row has applicant_id = 'nobody'; check the id, or the id_column."
    assert cli_message(caught.value).endswith("check the id, or the --id-column.")


def test_the_explain_command_keeps_no_logic() -> None:
    """It imports no engine: loading, explaining and writing are the library's."""
    tree = ast.parse((PACKAGE / "cli" / "explain.py").read_text(encoding="utf-8"))
    imported = {
        node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module is not None
    }
    assert not imported & {
        "governance.audit.explain",
        "governance.intake.data",
        "governance.intake.model_files",
    }
    assert "governance.audit.explain_run" in imported or "governance.audit" in imported


def test_one_progress_bar_serves_every_command() -> None:
    sources = {path: path.read_text(encoding="utf-8") for path in PACKAGE.rglob("*.py")}
    users = sorted(str(path.relative_to(PACKAGE)) for path, text in sources.items() if "progressbar(" in text)
    assert users == ["cli/_common.py"]


def test_the_progress_bar_is_silent_off_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with ProgressBars(enabled=False) as quiet:
        quiet("reasons", 1, 2)
    assert capsys.readouterr().err == ""
    with ProgressBars(enabled=True) as shown:
        shown("reasons", 1, 2)
        shown("fairness", 3, 3)
    assert "Explaining rows" in capsys.readouterr().err
