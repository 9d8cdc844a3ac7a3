"""Attack tests on what the verdict says: sentences a manager would misread."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from click.testing import CliRunner

from governance.audit.fairness import compute_fairness
from governance.cli.main import cli
from governance.rules.evaluate import evaluate_policy
from governance.rules.load import load_policy


def _four_fifths(sensitive: pd.DataFrame, y_pred: np.ndarray):
    policy = load_policy("four-fifths").policy
    fairness = compute_fairness(y_pred=y_pred, sensitive=sensitive, n_boot=0)
    return evaluate_policy(policy, fairness, policy_path="p", policy_sha256="0" * 64)


def test_single_group_is_not_reported_as_having_no_selection_rate():
    """With one group (or one known group + Unknown) the verdict says 'a binary audit has no selection rate' (false)."""
    sensitive = pd.DataFrame({"sex": ["f"] * 50})
    verdict = _four_fifths(sensitive, np.tile([0, 1], 25))
    assert "has no selection rate" not in verdict.summary, verdict.summary


def test_one_known_group_plus_unknown_is_not_reported_as_having_no_selection_rate():
    """One known group plus Unknown rows: the summary claims the audit 'has no selection rate'."""
    sensitive = pd.DataFrame({"sex": ["f", None] * 50})
    verdict = _four_fifths(sensitive, np.tile([0, 1], 50))
    assert "has no selection rate" not in verdict.summary, verdict.summary


def test_cli_impact_ratio_line_does_not_print_vs_none(tmp_path: Path):
    """When no category can be the most-selected one the CLI prints 'f vs None: n/a'."""
    runner = CliRunner()
    assert runner.invoke(cli, ["init", str(tmp_path)]).exit_code == 0
    data = tmp_path / "one.csv"
    data.write_text("sex,pred\nf,1\nm,0\n")
    result = runner.invoke(
        cli,
        [
            "audit",
            "m@1",
            "--workspace",
            str(tmp_path),
            "--no-register",
            "--no-figures",
            "--data",
            str(data),
            "--predictions",
            "pred",
            "--sensitive",
            "sex",
            "--policy",
            "four-fifths",
        ],
    )
    assert result.exit_code == 3, result.output
    assert "vs None" not in result.output, result.output


def test_rule_on_an_attribute_not_audited_names_the_attribute():
    """A blocking rule with attributes: [gender] on an audit of 'sex' says 'a binary audit has no selection rate'."""
    import yaml

    from governance.rules.load import parse_policy

    rule = {
        "id": "r",
        "description": "r",
        "metric": "selection_rate",
        "comparison": "impact_ratio",
        "bound": ">= 0.8",
        "attributes": ["gender"],
    }
    policy = parse_policy(yaml.safe_dump({"name": "t", "rules": [rule]}), source="t.yaml")
    rng = np.random.default_rng(0)
    sensitive = pd.DataFrame({"sex": rng.choice(["f", "m"], 600)})
    fairness = compute_fairness(y_pred=rng.integers(0, 2, 600), sensitive=sensitive, n_boot=0)
    verdict = evaluate_policy(policy, fairness, policy_path="t", policy_sha256="0" * 64)
    assert "has no selection rate" not in verdict.summary and "gender" in verdict.summary, verdict.summary


def test_equalized_odds_finding_names_what_its_n_counts():
    """Equalized-odds finding: n = 18 is group a's actual NEGATIVES (fpr) but the finding says '18 actual positives'."""
    import yaml

    from governance.rules.load import parse_policy

    rule = {
        "id": "eo",
        "description": "eo",
        "metric": "equalized_odds_difference",
        "comparison": "summary",
        "bound": "<= 0.5",
    }
    policy = parse_policy(
        yaml.safe_dump({"name": "t", "min_group_size": 10, "rules": [rule]}), source="t.yaml"
    )
    rng = np.random.default_rng(0)
    n = 1000
    group = rng.choice(["a", "b"], n)
    y_true = (rng.random(n) < np.where(group == "a", 0.95, 0.5)).astype(int)
    fairness = compute_fairness(
        y_pred=rng.integers(0, 2, n), y_true=y_true, sensitive=pd.DataFrame({"g": group}), n_boot=0
    )
    negatives = {g.group: g.counts["fpr"].rows for g in fairness.attributes[0].groups}
    finding = evaluate_policy(policy, fairness, policy_path="t", policy_sha256="0" * 64).rules[0].findings[0]
    assert finding.n == negatives["a"] == 18
    assert finding.counted != "actual positives", finding
