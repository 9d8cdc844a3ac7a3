"""The demo's optional last step (``governance demo --mitigate``): candidates for the failing version 1.0.0.

Runs after everything the golden files check, so the committed demo audits stay as they are.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from governance.workspace import Workspace

METHODS = ("drop-sensitive", "exponentiated-gradient", "threshold")


@dataclass(frozen=True)
class DemoModel:
    """The demo's model name, its data scientist, and how it splits its data (from :mod:`governance.demo.run`)."""

    name: str
    actor: str
    prepare: Callable[[Path], tuple[Any, Any, Path]]


def mitigation_step(
    workspace: Workspace,
    steps: list[str],
    echo: Callable[[str], None],
    demo: DemoModel,
    *,
    explain_budget: float,
) -> None:
    """Build, register, audit and compare mitigated candidates of the demo's 1.0.0 (on the demo's own split)."""
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
        ),
        echo=echo,
    )
    words = "; ".join(
        f"{row.version} {row.verdict} (accuracy {row.accuracy.value:.3f})"
        for row in outcome.rows
        if row.accuracy
    )
    steps.append(f"Mitigated {demo.name}@1.0.0: {words}; comparison in {outcome.folder}.")
