"""Attack tests on approval: what counts as a passing audit of a registered model file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sklearn.linear_model import LogisticRegression

from governance.cli.main import cli
from governance.intake.model_files import save_model


def test_saved_predictions_do_not_approve_a_registered_model_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    """Auditing any column of 'predictions' records PASSED for x@1 and approval needs no risk acceptance, though the
    registered model file itself fails four-fifths."""
    for variable in ("GOVERNANCE_ACTOR", "GOVERNANCE_REGISTER_URL", "GOVERNANCE_WORKSPACE"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()
    assert runner.invoke(cli, ["init", "."]).exit_code == 0
    rng = np.random.default_rng(1)
    n = 3000
    frame = pd.DataFrame({"x1": rng.normal(size=n), "sex": rng.choice(["f", "m"], n)})
    frame["x2"] = (frame.sex == "m").astype(float) + rng.normal(0, 0.1, n)
    frame["y"] = (rng.random(n) < 1 / (1 + np.exp(-(frame.x1 + 2 * frame.x2 - 1)))).astype(int)
    save_model(LogisticRegression().fit(frame[["x1", "x2"]], frame.y), tmp_path / "biased.skops")
    frame["fair"] = rng.integers(0, 2, n)  # decisions from anything but the registered model
    frame.to_csv(tmp_path / "hold.csv", index=False)

    def run(*args: str, actor: str = "ds@x"):
        return runner.invoke(
            cli,
            [*args[:2], "--actor", actor, *args[2:]] if args[0] == "register" else [*args, "--actor", actor],
        )

    assert (
        run(
            "register",
            "add",
            "x",
            "--owner",
            "o@x",
            "--purpose",
            "Decide",
            "--version",
            "1",
            "--model",
            "biased.skops",
        ).exit_code
        == 0
    )
    model_audit = run(
        "audit",
        "x@1",
        "--no-register",
        "--model",
        "biased.skops",
        "--data",
        "hold.csv",
        "--target",
        "y",
        "--sensitive",
        "sex",
        "--features",
        "x1",
        "--features",
        "x2",
        "--policy",
        "four-fifths",
        "--no-figures",
        "-q",
    )
    assert model_audit.exit_code == 1, model_audit.output  # the registered file fails four-fifths
    predictions_audit = run(
        "audit",
        "x@1",
        "--data",
        "hold.csv",
        "--target",
        "y",
        "--predictions",
        "fair",
        "--sensitive",
        "sex",
        "--policy",
        "four-fifths",
        "--no-figures",
        "-q",
    )
    assert predictions_audit.exit_code == 0, predictions_audit.output
    approval = run("register", "approve", "x@1", "--role", "risk-officer", actor="boss@x")
    assert approval.exit_code != 0, approval.output  # should need --accept-risk: the model file was never run
