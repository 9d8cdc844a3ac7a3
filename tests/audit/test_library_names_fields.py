"""The library's sentences name the fields a Python caller passed; the command line says the options a user typed.

A caller of ``check_run_options(seed=-1)`` never typed ``--seed``; a command-line user never typed ``seed=``.
Each case: the library's words (no ``--`` anywhere) and the command line's words, which stay as they were.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from governance.audit.explain.core import _check_inputs
from governance.audit.folders import AuditFolder
from governance.audit.registered import _require_mlflow_model
from governance.audit.run import (
    _positive_index,
    check_distinct_columns,
    check_explain_options,
    check_run_options,
)
from governance.audit.spec import enforce_spec
from governance.cli._common import cli_message
from governance.errors import GovernanceError
from governance.intake.model_files import check_trust, load_model
from governance.register.lifecycle import AuditFacts, check_approval, check_identities
from governance.rules.load import resolve_policy_path

NOW = datetime(2026, 11, 29, tzinfo=UTC)


def _approve(audits: list[AuditFacts]) -> None:
    check_approval(
        label="credit v1",
        state="audited",
        audits=audits,
        creator="ds@x",
        approver="ro@x",
        risk_acceptance=None,
        now=NOW,
    )


FAILED = AuditFacts(
    audit_id="a1", verdict="failed", actor="ds@x", recorded_at="2026-11-20T00:00:00Z", max_age_days=None
)
OLD = AuditFacts(
    audit_id="a2", verdict="passed", actor="ds@x", recorded_at="2026-01-01T00:00:00Z", max_age_days=30
)

CASES: list[tuple[str, Any, str, str]] = [
    (
        "seed",
        lambda: check_run_options(seed=-1),
        "seed must be a whole number from 0 to 4294967295, not -1; for example seed 0.",
        "--seed must be a whole number from 0 to 4294967295, not -1; for example --seed 0.",
    ),
    (
        "threshold",
        lambda: check_run_options(seed=0, threshold=float("nan")),
        "threshold must be a number, not nan; for example threshold 0.5.",
        "--threshold must be a number, not nan; for example --threshold 0.5.",
    ),
    (
        "n_boot",
        lambda: check_run_options(seed=0, n_boot=-1),
        "n_boot must be from 0 to 100,000 resamples, not -1; 1,000 is usually enough.",
        "--n-boot must be from 0 to 100,000 resamples, not -1; 1,000 is usually enough.",
    ),
    (
        "explain_budget",
        lambda: check_explain_options(0.0, None),
        "explain_budget must be a positive number of seconds, not 0; for example explain_budget 60.",
        "--explain-budget must be a positive number of seconds, not 0; for example --explain-budget 60.",
    ),
    (
        "explain_rows",
        lambda: check_explain_options(60.0, 0),
        "explain_rows must be at least 1, not 0; leave it out to explain every row the budget allows.",
        "--explain-rows must be at least 1, not 0; leave it out to explain every row the budget allows.",
    ),
    (
        "columns",
        lambda: check_distinct_columns(target="y", predictions="y", scores=None, sensitive=["sex"]),
        "The column 'y' is given both as target and as predictions; each role needs its own column",
        "The column 'y' is given both as --target and as --predictions; each role needs its own column",
    ),
    (
        "positive_label",
        lambda: _positive_index([0, 1], "yes"),
        "is not one of the model's classes (0, 1); pass one of those with positive_label.",
        "is not one of the model's classes (0, 1); pass one of those with --positive-label.",
    ),
    (
        "features",
        lambda: _check_inputs(pd.DataFrame(index=[0]), pd.DataFrame(index=[0]), 60.0, None, 3, 0),
        "There are no feature columns to explain; name the model's inputs with features.",
        "There are no feature columns to explain; name the model's inputs with --features.",
    ),
    (
        "max_rows",
        lambda: _check_inputs(pd.DataFrame({"x": [1]}), pd.DataFrame(index=[0]), 60.0, 0, 3, 0),
        "max_rows must be at least 1, not 0.",
        "--explain-rows must be at least 1, not 0.",
    ),
    (
        "override",
        lambda: enforce_spec(None, name="credit", override=" ", audit=None),  # type: ignore[arg-type]
        "override needs a reason: say in a sentence why",
        "--override needs a reason: say in a sentence why",
    ),
    (
        "mlflow_tags",
        lambda: _require_mlflow_model(None, "credit@1"),
        "mlflow_tags writes the verdict back to an MLflow model version, but this audit of credit@1 runs on saved "
        "predictions; leave out mlflow_tags,",
        "--mlflow-tags writes the verdict back to an MLflow model version, but this audit of credit@1 runs on saved "
        "predictions; leave out --mlflow-tags,",
    ),
    (
        "output_root",
        lambda: AuditFolder.reserve(Path(__file__) / "not-a-folder", "20261129"),
        "check the path given with output_root and its permissions.",
        "check the path given with --output and its permissions.",
    ),
    (
        "policy",
        lambda: resolve_policy_path("no-such-policy.yaml"),
        "The policy file no-such-policy.yaml does not exist; check the path given with policy.",
        "The policy file no-such-policy.yaml does not exist; check the path given with --policy.",
    ),
    (
        "model",
        lambda: load_model(Path(__file__).parent / "no-such-model.skops"),
        "no-such-model.skops does not exist; check the path passed to model.",
        "no-such-model.skops does not exist; check the path passed to --model.",
    ),
    (
        "trust",
        lambda: check_trust("model.pkl", "ab" * 32, "cd" * 32),
        "The SHA-256 given with trust_sha256 does not match model.pkl",
        "The SHA-256 given with --trust does not match model.pkl",
    ),
    (
        "accept_risk_failed",
        lambda: _approve([FAILED]),
        "or approve with risk_acceptance REASON to record a risk acceptance that covers them.",
        "or approve with --accept-risk REASON to record a risk acceptance that covers them.",
    ),
    (
        "accept_risk_expired",
        lambda: _approve([OLD]),
        "audit it again, or approve with risk_acceptance REASON.",
        "audit it again, or approve with --accept-risk REASON.",
    ),
    (
        "actor",
        lambda: check_identities(label="credit v1", approver="pg:ana", audit=None, creator="pg:ana"),
        "which registered this version, whatever name actor gives;",
        "which registered this version, whatever name --actor gives;",
    ),
]


@pytest.mark.parametrize(
    ("check", "library", "command_line"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_library_names_the_field_and_the_command_line_the_option(
    check: Any, library: str, command_line: str
) -> None:
    with pytest.raises(GovernanceError) as caught:
        check()
    assert library in str(caught.value)
    assert "--" not in str(caught.value)
    assert command_line in cli_message(caught.value)
