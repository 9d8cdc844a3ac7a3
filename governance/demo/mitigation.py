"""The demo's mitigation step: candidates for the failing version 1.0.0, compared, and the best one approved.

It runs after the year of monitoring, on the demo's own split. On 300 holdout rows no candidate can pass the
default policy (the four-fifths interval for about 40 people under 25 and 37 over 50 straddles 0.8 at any
threshold worth using; see the guide's "When an audit fails"), so the risk officer, a different person from the
data scientist, approves the best candidate on a recorded risk acceptance; the approval records which run it was
chosen from and the alternatives it was chosen over, and the site shows the comparison on the model's page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance.mitigate.run import ComparisonRow, MitigationOutcome
    from governance.workspace import Workspace

METHODS = ("drop-sensitive", "exponentiated-gradient", "threshold")
CHOICE_RISK_ACCEPTANCE = (
    "No candidate can pass the four-fifths screen on 300 holdout cases (about 40 applicants under 25 and 37 over "
    "50); {version} is the most accurate candidate that does not decide with the applicant's sex. Not deployed: "
    "it is re-audited on three months of live decisions before it replaces 1.1.0."
)


@dataclass(frozen=True)
class DemoModel:
    """The demo's model name, its data scientist and risk officer, and how it splits its data."""

    name: str
    actor: str
    approver: str
    prepare: Callable[[Path], tuple[Any, Any, Path]]


def mitigation_step(
    workspace: Workspace,
    steps: list[str],
    echo: Callable[[str], None],
    demo: DemoModel,
    *,
    explain_budget: float,
) -> MitigationOutcome:
    """Build, register, audit and compare mitigated candidates of the demo's 1.0.0; approve the best one."""
    from governance.mitigate.run import MitigationRequest, mitigate

    folder = workspace.root / "demo"
    train, _holdout, holdout_path = demo.prepare(folder)
    train_path = folder / "german-credit-train.csv"
    train.to_csv(train_path, index=False)
    outcome = mitigate(
        MitigationRequest(
            name=demo.name,
            version="1.0.0",
            data=train_path,
            holdout=holdout_path,
            methods=METHODS,
            explain_budget=explain_budget,
            workspace=workspace,
            actor=demo.actor,
            reproducible_id=True,
            command_line=f"governance mitigate {demo.name}@1.0.0 --data demo/german-credit-train.csv --holdout "
            "demo/german-credit-holdout.csv " + " ".join(f"--method {m}" for m in METHODS),
        ),
        echo=echo,
    )
    words = "; ".join(
        f"{row.version} {row.verdict} (accuracy {row.accuracy.value:.3f})"
        for row in outcome.rows
        if row.accuracy
    )
    where = outcome.folder.relative_to(workspace.root).as_posix() if outcome.folder else "(not written)"
    steps.append(f"Mitigated {demo.name}@1.0.0: {words}; comparison in {where}.")
    _approve_best(workspace, steps, demo, outcome)
    return outcome


def _approve_best(
    workspace: Workspace, steps: list[str], demo: DemoModel, outcome: MitigationOutcome
) -> None:
    """The risk officer approves the best candidate: plainly when it passed, else on a recorded risk acceptance."""
    from governance.mitigate.run import best_candidate
    from governance.register import Register
    from governance.register.mitigation import chosen_words

    best: ComparisonRow | None = best_candidate(outcome.rows)
    if best is None:
        steps.append("No mitigated candidate could be audited, so none was approved.")
        return
    acceptance = None if best.verdict == "passed" else CHOICE_RISK_ACCEPTANCE.format(version=best.version)
    with Register.for_workspace(workspace) as register:
        record = register.approve(
            demo.name,
            best.version,
            role="risk-officer",
            actor=demo.approver,
            comment=f"Chosen from the mitigation comparison: {best.method}, {best.verdict}.",
            risk_acceptance=acceptance,
        )
    how = "on a recorded risk acceptance" if acceptance else "(its audit passed)"
    steps.append(
        f"Approved the candidate {demo.name}@{best.version} {how} ({demo.approver}); "
        f"{chosen_words(record.chosen_from)}."
    )
