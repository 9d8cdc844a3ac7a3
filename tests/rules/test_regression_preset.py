"""The shipped ``regression`` preset: it validates, and a regression audit under it runs through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from governance.cli.main import cli
from governance.rules.load import load_policy
from governance.rules.schema import MetricRule


def test_the_regression_preset_validates_and_uses_scale_free_error_ratios() -> None:
    policy = load_policy("regression").policy
    rules = {rule.id: rule for rule in policy.rules}
    assert set(rules) == {"mae-ratio", "rmse-ratio", "mean-prediction-ratio"}
    assert all(isinstance(rule, MetricRule) for rule in rules.values())
    mae = rules["mae-ratio"]
    assert isinstance(mae, MetricRule)
    assert (mae.metric, mae.comparison, mae.bound, mae.severity) == (
        "mae",
        "ratio_between_groups",
        ">= 0.8",
        "block",
    )
    result = CliRunner().invoke(cli, ["policy", "validate", "regression"])
    assert result.exit_code == 0, result.output
    assert "valid policy 'regression' with 3 rule(s)" in result.output


def _amounts(tmp_path: Path, *, noisy_group_b: float) -> Path:
    """Predicted credit limits: group B's predictions are ``noisy_group_b`` times as far off as group A's."""
    rng = np.random.default_rng(3)
    n = 1200
    group = rng.choice(["A", "B"], size=n)
    truth = rng.normal(5000, 800, size=n)
    spread = np.where(group == "B", 300 * noisy_group_b, 300)
    frame = pd.DataFrame(
        {"group": group, "limit": truth, "predicted": truth + rng.normal(0, 1, size=n) * spread}
    )
    path = tmp_path / "limits.csv"
    frame.to_csv(path, index=False)
    return path


def _audit(tmp_path: Path, data: Path) -> tuple[int, dict[str, object], str]:
    args = [
        "audit",
        "limits@1",
        "--no-register",
        "--workspace",
        str(tmp_path),
        "--data",
        str(data),
        "--predictions",
        "predicted",
        "--target",
        "limit",
        "--sensitive",
        "group",
        "--policy",
        "regression",
        "--n-boot",
        "200",
        "--no-figures",
        "--json",
        "-",
    ]
    result = CliRunner().invoke(cli, args)
    return result.exit_code, json.loads(result.stdout) if result.stdout.startswith("{") else {}, result.output


def test_an_even_regression_model_passes_under_the_preset(tmp_path: Path) -> None:
    code, audit, output = _audit(tmp_path, _amounts(tmp_path, noisy_group_b=1.0))
    assert code == 0, output
    statuses = {rule["rule_id"]: rule["status"] for rule in audit["policy"]["rules"]}  # type: ignore[index]
    assert statuses["mae-ratio"] == "pass"


def test_a_model_twice_as_wrong_for_one_group_fails_the_mae_rule(tmp_path: Path) -> None:
    code, audit, output = _audit(tmp_path, _amounts(tmp_path, noisy_group_b=2.0))
    assert code == 1, output
    statuses = {rule["rule_id"]: rule["status"] for rule in audit["policy"]["rules"]}  # type: ignore[index]
    assert statuses["mae-ratio"] == "fail"
    assert statuses["rmse-ratio"] == "fail"


def test_the_message_for_continuous_predictions_names_the_shipped_regression_preset(tmp_path: Path) -> None:
    data = _amounts(tmp_path, noisy_group_b=1.0)
    args = [
        "audit",
        "limits@1",
        "--no-register",
        "--workspace",
        str(tmp_path),
        "--data",
        str(data),
        "--predictions",
        "predicted",
        "--target",
        "limit",
        "--sensitive",
        "group",
        "--policy",
        "four-fifths",
    ]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 2, result.output
    assert "--policy regression" in result.output
