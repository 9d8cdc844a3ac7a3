"""Parameters carried as objects: ``AuditRequest`` (the command builds it, ``audit`` takes it) and
``FairnessOptions`` (the policy's comparison settings, taken by both fairness entry points)."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from governance.audit.fairness import (
    FairnessOptions,
    build_count_table,
    compute_fairness,
    compute_fairness_from_counts,
)
from governance.audit.run import AuditRequest, audit
from governance.errors import InputError
from governance.rules.load import load_policy
from governance.workspace import Workspace

RUN = Path(__file__).resolve().parents[2] / "governance" / "audit" / "run.py"


@pytest.fixture
def log(tmp_path: Path) -> Path:
    rng = np.random.default_rng(5)
    n = 800
    frame = pd.DataFrame(
        {
            "sex": rng.choice(["female", "male"], size=n),
            "decision": rng.integers(0, 2, size=n),
            "outcome": rng.integers(0, 2, size=n),
        }
    )
    frame.to_csv(tmp_path / "log.csv", index=False)
    return tmp_path / "log.csv"


def test_audit_takes_a_request_and_keywords_build_the_same_one(log: Path) -> None:
    request = AuditRequest(
        name="vendor",
        version="1",
        data=log,
        sensitive=["sex"],
        target="outcome",
        predictions="decision",
        workspace=Workspace(root=log.parent),
        write=False,
    )
    by_object = audit(request).result
    by_keywords = audit(
        name="vendor",
        version="1",
        data=log,
        sensitive=["sex"],
        target="outcome",
        predictions="decision",
        workspace=Workspace(root=log.parent),
        write=False,
    ).result
    assert by_object.fairness == by_keywords.fairness
    assert by_object.policy.verdict == by_keywords.policy.verdict
    with pytest.raises(TypeError):
        audit(request, sensitve=["sex"])  # a misspelt field is refused, not ignored


def test_the_request_carries_the_policy_settings_to_the_fairness_engine(tmp_path: Path) -> None:
    policy = load_policy("default", workspace_root=tmp_path)
    request = AuditRequest(name="m", version="1", data="d.csv", seed=7, ll144_rate="scoring")
    options = request.fairness_options(policy)
    assert options == FairnessOptions(
        reference=policy.policy.reference,
        reference_groups=policy.policy.reference_groups or None,
        intersections=policy.policy.intersections,
        n_boot=policy.policy.n_boot,
        confidence_level=policy.policy.confidence_level,
        seed=7,
        min_group_size=policy.policy.min_group_size,
        ll144_rate="scoring",
    )
    assert AuditRequest(name="m", version="1", data="d.csv", n_boot=0).fairness_options(policy).n_boot == 0


def _columns() -> dict[str, object]:
    rng = np.random.default_rng(0)
    n = 500
    return {
        "y_pred": rng.integers(0, 2, size=n),
        "y_true": rng.integers(0, 2, size=n),
        "sensitive": pd.DataFrame({"sex": rng.choice(["f", "m"], size=n)}),
    }


def test_fairness_options_or_their_keywords_give_the_same_result() -> None:
    options = FairnessOptions(n_boot=0, min_group_size=10, confidence_level=0.9, seed=3)
    as_object = compute_fairness(**_columns(), options=options)  # type: ignore[arg-type]
    as_keywords = compute_fairness(**_columns(), n_boot=0, min_group_size=10, confidence_level=0.9, seed=3)  # type: ignore[arg-type]
    assert as_object == as_keywords
    table = build_count_table(**_columns())  # type: ignore[arg-type]
    assert compute_fairness_from_counts(table, options=options).attributes == as_object.attributes


def test_a_misspelt_or_impossible_fairness_option_is_refused() -> None:
    with pytest.raises(TypeError, match="'nboot' is not a fairness option"):
        compute_fairness(**_columns(), nboot=10)  # type: ignore[arg-type]
    table = build_count_table(**_columns())  # type: ignore[arg-type]
    with pytest.raises(InputError, match="needs scores"):
        compute_fairness_from_counts(table, options=FairnessOptions(ll144_rate="scoring"))


def test_audit_is_a_list_of_named_steps() -> None:
    """``audit()`` reads as its steps; each step is a function named after what it does."""
    tree = ast.parse(RUN.read_text(encoding="utf-8"))
    function = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "audit")
    statements = sum(isinstance(node, ast.stmt) for node in ast.walk(function)) - 1
    assert statements <= 20, statements
