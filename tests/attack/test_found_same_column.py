"""Attack tests: one column given in two roles."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from governance.cli.main import cli


def test_target_equal_to_predictions_is_refused(tmp_path: Path):
    """--target pred --predictions pred is accepted: every error rate is perfect and equalized-odds PASSES (not passed
    with the real target)."""
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(tmp_path)]).exit_code == 0
    rng = np.random.default_rng(0)
    n = 4000
    frame = pd.DataFrame({"sex": rng.choice(["f", "m"], n), "y": rng.integers(0, 2, n)})
    frame["pred"] = (rng.random(n) < np.where(frame.sex == "f", 0.35, 0.5)).astype(int)
    frame.to_csv(tmp_path / "d.csv", index=False)
    base = [
        "audit",
        "m@1",
        "--workspace",
        str(tmp_path),
        "--no-register",
        "--no-figures",
        "-q",
        "--data",
        str(tmp_path / "d.csv"),
        "--predictions",
        "pred",
        "--sensitive",
        "sex",
        "--policy",
        "equalized-odds",
    ]
    assert runner.invoke(cli, [*base, "--target", "y"]).exit_code != 0  # not passed with the real target
    result = runner.invoke(cli, [*base, "--target", "pred"])
    assert result.exit_code == 2, result.output
