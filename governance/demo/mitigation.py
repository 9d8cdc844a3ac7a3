"""The demo's optional last step (``governance demo --mitigate``): candidates for the failing version 1.0.0.

Runs after everything the golden files check, so the committed demo audits stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from governance.workspace import Workspace

METHODS = ("drop-sensitive", "exponentiated-gradient", "threshold")


def mitigation_step(
    workspace: Workspace, steps: list[str], echo: Callable[[str], None], *, explain_budget: float
) -> None:
    """Build, register, audit and compare mitigated candidates of credit-risk@1.0.0 (the demo's own split)."""
    from governance.demo.run import DATA_SCIENTIST, MODEL_NAME, prepare_data
    from governance.mitigate.run import MitigationRequest, mitigate

    folder = workspace.root / "demo"
    train, _holdout, holdout_path = prepare_data(folder)
    train_path = folder / "german-credit-train.csv"
    train.to_csv(train_path, index=False)
    outcome = mitigate(
        MitigationRequest(
            name=MODEL_NAME,
            version="1.0.0",
            data=train_path,
            holdout=holdout_path,
            methods=METHODS,
            explain_budget=explain_budget,
            workspace=workspace,
            actor=DATA_SCIENTIST,
        ),
        echo=echo,
    )
    words = "; ".join(
        f"{row.version} {row.verdict} (accuracy {row.accuracy.value:.3f})"
        for row in outcome.rows
        if row.accuracy
    )
    steps.append(f"Mitigated {MODEL_NAME}@1.0.0: {words}; comparison in {outcome.folder}.")
